"""The HTTP layer: the Starlette app, auth, fair limits, the function registry, log streaming, the CLI.

``gateway.app.create_app(settings)`` builds the app; ``wasmtask serve`` runs it.
"""
