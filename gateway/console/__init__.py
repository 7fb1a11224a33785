"""The web console and the embeddable editor, one concept per module.

assets.py  the static assets: npm packages (web/package-lock.json) bundled by esbuild at make time,
           content-hashed, with a manifest (``make console``)
server.py  the console's own origin (``wasmtask serve --console-port``): the page, the assets, the embed
cors.py    CORS on the gateway's ``/api/`` routes for the console's origin and the configured ones
api.py     the API routes only the console needs: call statistics, the request builder's call
stats.py   per-function calls, errors, durations and fuel for an hour, from the tenant's live log

The browser side is web/src (console.js, embed.js and what they import); web/ sits beside
the Python that serves it so that one directory holds the whole console.
"""
