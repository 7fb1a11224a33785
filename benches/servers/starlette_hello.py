"""The floor of our own stack: one Starlette route on uvicorn, no isolate.

Run as ``python starlette_hello.py PORT``. The uvicorn flags mirror
``gateway/cli/server.py`` (1 process, same log level, so the same access log cost);
the harness prints the gateway's ``uvicorn.run`` line beside the results so a
drift shows.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world")


app = Starlette(routes=[Route("/", hello)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info", access_log=False,
                timeout_graceful_shutdown=5)
