"""A call over HTTP, from the route to the response: the hot path on the gateway's side.

flow.py         ``serve_call``: the one sequence of an edge call and of an ad-hoc run
invocation.py   ``call``: one call of a program (admission, events, metrics), and its HTTP response
cdn_loop.py     the ``CDN-Loop`` hop count: no chain of functions calls itself without end
logs_header.py  ``x-wasmtask-logs``: a call's own log lines in its response

These modules take the ``Gateway`` (gateway/service.py), so what it holds for
calls sits below it: ``InlinePolicy`` (gateway/inline.py, short calls on the
event loop) and ``CredentialFilter`` (gateway/identity/credentials.py).
"""
