"""The ``wasmtask`` command line (``wasmtask = "gateway.cli:main"``; ``python -m gateway.cli`` too).

commands.py   the argparse front: one ``cmd_*`` function per command
client.py     the HTTP client for the gateway API
local_run.py  ``wasmtask run FILE``: one call in a fresh isolate, no server
server.py     ``wasmtask serve``: the gateway under uvicorn
"""

from gateway.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
