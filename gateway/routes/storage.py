"""A function's storage, for its owner: the document (webtask's ``ctx.storage``) and the KV entries
(``env.KV``). Every route needs a token with the ``deploy`` scope (what manages the function) and
counts against the tenant's API rate.

    GET    /api/storage/{tenant}/{name}          {"data": <JSON or null>, "version": n} (0: none yet)
    PUT    /api/storage/{tenant}/{name}          body {"data": ..., "version"?: n}: with ``version``, a
                                                 conflict (409) when the document moved on since; without,
                                                 written whatever is there. Answers {"version": n}
    GET    /api/kv/{tenant}/{name}               ?prefix=&limit=&cursor=: {"keys", "list_complete", "cursor"}
    GET    /api/kv/{tenant}/{name}/{key}         the value's bytes (text/plain for a string value)
    PUT    /api/kv/{tenant}/{name}/{key}         the body is the value: a string unless the content type is
                                                 application/octet-stream (or the body is not UTF-8);
                                                 ``?expiration_ttl=`` seconds
    DELETE /api/kv/{tenant}/{name}/{key}         204

Keys are the rest of the path, percent-decoded (``a/b`` and ``user%3A1`` are keys).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import InvalidRequest, NotFound
from gateway.http import JSONResponse, media_type, parse_json_object, read_body
from gateway.identity.auth import authorize
from gateway.names import check_name
from gateway.service import API_BUCKET, Gateway
from gateway.storage.owner import OwnerStorage
from host_api.storage import LIMITS, encoded_value, key_record

MAX_DOCUMENT_BODY_BYTES = 2 * LIMITS.document_bytes  # the JSON of a 500 KB document, with room for its escapes
MAX_VALUE_BODY_BYTES = LIMITS.value_bytes


async def _owner(request: Request) -> tuple[Gateway, str, str]:
    """Check the names, then the token (before revealing whether the tenant exists), then the tenant."""
    gateway: Gateway = request.app.state.gateway
    tenant_name = check_name(request.path_params["tenant"], "tenant name")
    name = check_name(request.path_params["name"], "function name")
    principal = authorize(gateway.principal(request.headers), tenant_name, "deploy", function=name)
    tenant = await gateway.tenant(tenant_name, principal)
    await gateway.take_rate(tenant, API_BUCKET)
    return gateway, tenant.name, name


def _storage(gateway: Gateway) -> OwnerStorage:
    return OwnerStorage(gateway.storage)


def _whole_number(text: str | None, what: str) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise InvalidRequest(f"{what} must be a whole number")
    return int(text)


async def get_document(request: Request) -> Response:
    gateway, tenant, name = await _owner(request)
    answer = await anyio.to_thread.run_sync(_storage(gateway).get_document, tenant, name)
    return JSONResponse(answer)


async def put_document(request: Request) -> Response:
    gateway, tenant, name = await _owner(request)
    body = parse_json_object(await read_body(request, MAX_DOCUMENT_BODY_BYTES))
    if "data" not in body:
        raise InvalidRequest('the body is {"data": <the document>, "version": <the version it is based on>}')
    version: Any = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 0):
        raise InvalidRequest("version must be the version a read answered (0: no document yet)")
    written = await anyio.to_thread.run_sync(_storage(gateway).put_document, tenant, name, body["data"], version)
    return JSONResponse({"version": written.version})


async def list_keys(request: Request) -> Response:
    gateway, tenant, name = await _owner(request)
    query = request.query_params
    page = await anyio.to_thread.run_sync(
        _storage(gateway).kv_list, tenant, name, query.get("prefix", ""), _whole_number(query.get("limit"), "limit"),
        query.get("cursor") or None)
    return JSONResponse({"keys": [key_record(key) for key in page.keys], "list_complete": page.cursor is None,
                         "cursor": page.cursor or ""})


async def get_value(request: Request) -> Response:
    gateway, tenant, name = await _owner(request)
    key = request.path_params["key"]
    entry = await anyio.to_thread.run_sync(_storage(gateway).kv_get, tenant, name, key)
    if entry is None:
        raise NotFound(f"no KV key {key!r} in function {name!r}")
    headers = {} if entry.expires_at is None else {"x-wasmtask-expiration": str(int(entry.expires_at))}
    if request.query_params.get("format") == "json":
        return JSONResponse({"key": key, **encoded_value(entry), **({"expiration": int(entry.expires_at)}
                                                                   if entry.expires_at is not None else {})})
    media = "text/plain; charset=utf-8" if entry.is_text else "application/octet-stream"
    return Response(entry.value, media_type=media, headers=headers)


async def put_value(request: Request) -> Response:
    gateway, tenant, name = await _owner(request)
    key = request.path_params["key"]
    value = await read_body(request, MAX_VALUE_BODY_BYTES)
    is_text = media_type(request) != "application/octet-stream"
    if is_text:
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    ttl = _whole_number(request.query_params.get("expiration_ttl"), "expiration_ttl")
    await anyio.to_thread.run_sync(lambda: _storage(gateway).kv_put(tenant, name, key, value, is_text=is_text,
                                                                     expiration_ttl=ttl))
    return Response(status_code=204)


async def delete_value(request: Request) -> Response:
    gateway, tenant, name = await _owner(request)
    await anyio.to_thread.run_sync(_storage(gateway).kv_delete, tenant, name, request.path_params["key"])
    return Response(status_code=204)


routes = [
    Route("/api/storage/{tenant}/{name}", get_document, methods=["GET"]),
    Route("/api/storage/{tenant}/{name}", put_document, methods=["PUT"]),
    Route("/api/kv/{tenant}/{name}", list_keys, methods=["GET"]),
    Route("/api/kv/{tenant}/{name}/{key:path}", get_value, methods=["GET"]),
    Route("/api/kv/{tenant}/{name}/{key:path}", put_value, methods=["PUT"]),
    Route("/api/kv/{tenant}/{name}/{key:path}", delete_value, methods=["DELETE"]),
]
