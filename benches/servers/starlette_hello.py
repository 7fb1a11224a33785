"""The floor of our own stack: one Starlette route on uvicorn, no isolate.

Run as ``python starlette_hello.py PORT [WORKERS]``. The uvicorn flags mirror
``gateway/cli/server.py`` (same log level, so the same access log cost; one
process, or uvicorn's supervisor over WORKERS processes as ``wasmtask serve
--workers`` runs it); the harness prints the gateway's ``uvicorn.run`` line beside
the results so a drift shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world")


app = Starlette(routes=[Route("/", hello)])

if __name__ == "__main__":
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if workers == 1:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", access_log=False,
                    timeout_graceful_shutdown=5)
    else:  # each worker is spawned and imports the app by name
        uvicorn.run("starlette_hello:app", app_dir=str(Path(__file__).parent), workers=workers, host="127.0.0.1",
                    port=port, log_level="info", access_log=False, timeout_graceful_shutdown=5)
