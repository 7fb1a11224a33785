"""A Python function for wasmtask: deploy it with language "python".

It greets ?name=, logs, and echoes the request method.
"""

import wasmtask


def handle(request: wasmtask.Request):
    name = request.query.get("name", "world")
    wasmtask.log.info(f"hello from Python, {name}")
    return {"hello": name, "method": request.method, "language": "python"}
