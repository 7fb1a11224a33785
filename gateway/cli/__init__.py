"""The ``wasmtask`` command line (``wasmtask = "gateway.cli:main"``; ``python -m gateway.cli`` too), on click.

commands.py    the front: the command table, ``main`` (errors -> exit codes), suggestions for typos
errors.py      the CLI's errors and exit codes
options.py     flag types (durations and sizes need units) and shared options (--json, --url, limits)
output.py      tables and sentences for people (rich, imported on first use), JSON for scripts
client.py      the HTTP client for the gateway API; ``Connection`` (where and as whom)
project.py     ``wasmtask.toml`` and ``.env`` files; target.py: which tenant and function a command means
templates.py   what ``init`` writes; init.py the command
local_run.py   ``run``: one call in a fresh isolate, no server
dev.py         ``dev``: an embedded gateway, redeploy on save, each call printed with its logs
deploy.py      ``deploy``, ``versions``, ``rollback``; invoke.py, functions.py, secrets.py, tail.py (``logs``),
admin.py       ``tenants``, ``token``; server.py ``serve``; completion.py

Start-up: each command's module (and what it needs: httpx, rich, isolates, uvicorn)
is imported only when that command runs, so ``wasmtask --help`` loads click and
nothing else. Measured with ``hyperfine 'wasmtask --help'`` (user CPU, 2 busy cores):
~300 ms with the argparse front that imported isolates and httpx at the top,
~70 ms now; ``python -c pass`` is ~20 ms of it, click ~25 ms.
"""

from gateway.cli.commands import cli, main

__all__ = ["cli", "main"]
