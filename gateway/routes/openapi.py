"""``GET /openapi.json`` (OpenAPI 3.1 of every route) and ``GET /docs`` (a page rendered from it, no scripts).

The description is written here, next to the routes it describes, and a test
(tests/gateway/routes/test_openapi.py) keeps the two equal: every route of the
app is in it with its methods, and nothing else is. Routes that only answer
errors for malformed paths (``UNDOCUMENTED``) are left out.
"""

from __future__ import annotations

import functools
import html
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.errors import STATUS_BY_CODE
from gateway.http import JSONResponse
from isolates.languages import LANGUAGES
from isolates.limits import Limits

UNDOCUMENTED = frozenset({"/api/functions/{tenant}/{rest:path}"})  # bad names and methods: errors only

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, **({"required": list(required)} if required else {}),
            **extra}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}

SCHEMAS: dict[str, Schema] = {
    "Error": obj({"error": obj({
        "code": {"type": "string", "enum": sorted(STATUS_BY_CODE)},
        "message": STRING,
        "request_id": STRING,
        "name": {**STRING, "description": "the guest's error name (ad-hoc runs and deploys only)"},
        "stack": {**STRING, "description": "the guest's stack (ad-hoc runs and deploys only)"},
        "location": {**ref("SourceLocation"), "description": "where a syntax, build or guest error points"},
    }, ("code", "message", "request_id"))}, ("error",)),
    "SourceLocation": obj({"file": STRING, "line": INTEGER, "column": {"type": ["integer", "null"]}},
                          ("file", "line")),
    "Limits": obj({name: {**INTEGER, "minimum": 1, "default": default}
                   for name, default in Limits().to_dict().items()},
                  description="Per call; every field names its unit (isolates/limits.py)."),
    "DeployRequest": obj({
        "code": {**STRING, "description": "the source (or WAT text)"},
        "code_base64": {**STRING, "description": "a Wasm binary, base64"},
        "language": {"type": "string", "enum": sorted(LANGUAGES), "default": "javascript"},
        "limits": ref("Limits"),
        "secrets": {**STRING_MAP, "description": "omitted: keep the current ones; {}: clear them"},
        "env": STRING_MAP,
        "allowed_hosts": {"type": "array", "items": STRING, "examples": [["https://api.example.com"]]},
        "auth": {"type": "string", "enum": ["public", "token"], "default": "public"},
        "filename": {**STRING, "description": "the user's file name: errors and stack traces name it",
                     "examples": ["worker.js"]},
    }),
    "RunRequest": obj({
        "code": STRING, "code_base64": STRING,
        "language": {"type": "string", "enum": sorted(LANGUAGES), "default": "javascript"},
        "limits": ref("Limits"),
        "body": {"description": "any JSON: the request body the handler sees"},
        "filename": STRING,
    }),
    "Function": obj({
        "tenant": STRING, "name": STRING, "version": {**STRING, "examples": ["v3"]},
        "language": STRING, "limits": ref("Limits"), "allowed_hosts": {"type": "array", "items": STRING},
        "auth": STRING, "env": STRING_MAP, "secrets": {"type": "array", "items": STRING, "description": "names only"},
        "code_bytes": INTEGER, "filename": STRING,
        "note": {**STRING, "description": "how the version came about, when not a plain deploy"},
        "created_at": NUMBER, "updated_at": NUMBER,
    }),
    "Deployed": {"allOf": [ref("Function"), obj({"deploy": obj({
        "prepare_ms": NUMBER, "init_fuel": INTEGER, "snapshot_bytes": INTEGER})})]},
    "RolledBack": {"allOf": [ref("Function"), obj({"rolled_back_to": STRING, "rolled_back_from": STRING})]},
    "FunctionList": obj({"tenant": STRING, "functions": {"type": "array", "items": obj({
        "name": STRING, "version": STRING, "language": STRING, "auth": STRING,
        "created_at": NUMBER, "updated_at": NUMBER})}}),
    "VersionList": obj({"tenant": STRING, "name": STRING, "versions": {"type": "array", "items": obj({
        "version": STRING, "language": STRING, "created_at": NUMBER, "current": {"type": "boolean"},
        "note": STRING})}}),
    "RollbackRequest": obj({"version": {"type": ["string", "integer"], "examples": ["v2"],
                                        "description": "omitted: the version before the current one"}}),
    "SecretValue": obj({"value": STRING}, ("value",)),
    "SecretList": obj({"tenant": STRING, "name": STRING, "version": STRING,
                       "secrets": {"type": "array", "items": STRING}}),
    "Deleted": obj({"deleted": {"type": "boolean"}, "tenant": STRING, "name": STRING}),
    "TenantRequest": obj({
        "name": STRING, "max_limits": ref("Limits"),
        "rate_limit": obj({"per_second": NUMBER, "burst": INTEGER}), "concurrency": INTEGER}, ("name",)),
    "Tenant": obj({"name": STRING, "max_limits": ref("Limits"),
                   "rate_limit": obj({"per_second": NUMBER, "burst": INTEGER}),
                   "concurrency": INTEGER, "created_at": NUMBER}),
    "TenantList": obj({"tenants": {"type": "array", "items": ref("Tenant")}}),
    "TokenRequest": obj({
        "tenant": STRING,
        "scopes": {"oneOf": [{"type": "array", "items": {"enum": ["run", "deploy", "logs"]}}, STRING]},
        "expires_in": {**INTEGER, "description": "seconds"}, "limits": ref("Limits")}, ("tenant",)),
    "Token": obj({"token": STRING, "expires_at": INTEGER}),
}

NAMES: Schema = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}
TENANT = {"name": "tenant", "in": "path", "required": True, "schema": NAMES}
NAME = {"name": "name", "in": "path", "required": True, "schema": NAMES}
PATH = {"name": "path", "in": "path", "required": True, "schema": STRING, "description": "below the function"}
SECRET = {"name": "secret", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"}}


def json_body(schema: str) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def answers(ok: int, schema: str | None, *errors: int, media: str = "application/json") -> Schema:
    responses: Schema = {str(ok): {"description": "OK" if ok == 200 else "Created",
                                   **({"content": {media: {"schema": ref(schema)}}} if schema else {})}}
    for status in sorted({*errors, 400}):
        codes = sorted(code for code, code_status in STATUS_BY_CODE.items() if code_status == status)
        responses[str(status)] = {"description": ", ".join(codes) or "error",
                                  "content": {"application/json": {"schema": ref("Error")}}}
    return responses


def operation(summary: str, who: str, responses: Schema, *, parameters: list[Schema] | None = None,
              body: Schema | None = None, description: str = "") -> Schema:
    op: Schema = {"summary": summary, "description": (description + f"\n\nWho: {who}.").strip(),
                  "parameters": parameters or [], "responses": responses}
    if who != "public":
        op["security"] = [{"bearer": []}]
    if body is not None:
        op["requestBody"] = body
    return op


DEPLOY_ERRORS = (401, 403, 404, 413, 415, 429, 500, 503, 504, 507, 508)

PATHS: dict[str, dict[str, Schema]] = {
    "/healthz": {"get": operation("Liveness", "public", {"200": {"description": "the process answers"}})},
    "/readyz": {"get": operation("Readiness: the registry answers, the JS runtime is loaded", "public",
                                 {"200": {"description": "ready, or degraded (Redis away)"},
                                  "503": {"description": "not ready"}})},
    "/metrics": {"get": operation("Prometheus metrics", "public", {"200": {"description": "text exposition"}})},
    "/openapi.json": {"get": operation("This description", "public", {"200": {"description": "OpenAPI 3.1"}})},
    "/docs": {"get": operation("This description as a page", "public", {"200": {"description": "HTML"}})},
    "/api/tenants": {
        "post": operation("Create a tenant", "admin key", answers(201, "Tenant", 401, 403, 409),
                          body=json_body("TenantRequest")),
        "get": operation("List tenants", "admin key", answers(200, "TenantList", 401, 403)),
    },
    "/api/tenants/{tenant}": {
        "get": operation("A tenant's limits", "admin key, or any token of the tenant",
                         answers(200, "Tenant", 401, 403, 404), parameters=[TENANT]),
        "delete": operation("Delete a tenant, its functions and versions", "admin key",
                            answers(200, None, 401, 403, 404), parameters=[TENANT]),
    },
    "/api/tokens": {"post": operation("Issue a tenant token (HS256 JWT)", "admin key",
                                      answers(201, "Token", 401, 403, 404), body=json_body("TokenRequest"))},
    "/api/functions/{tenant}": {"get": operation("List functions", "token with scope deploy",
                                                 answers(200, "FunctionList", 401, 403, 404), parameters=[TENANT])},
    "/api/functions/{tenant}/{name}": {
        "get": operation("A function's metadata (never its code or secret values)", "token with scope deploy",
                         answers(200, "Function", 401, 403, 404), parameters=[TENANT, NAME]),
        "put": operation(
            "Deploy: the function's next version", "token with scope deploy", answers(200, "Deployed", *DEPLOY_ERRORS),
            parameters=[TENANT, NAME],
            body={"required": True, "content": {"application/json": {"schema": ref("DeployRequest")},
                                                "text/javascript": {"schema": STRING},
                                                "application/wasm": {"schema": {"type": "string",
                                                                                "format": "binary"}}}},
            description="Validates, compiles and snapshots now; the new version serves once committed. "
                        "Bad code is invalid_code (with location); a missing toolchain language_unavailable."),
        "delete": operation("Delete the function and its versions", "token with scope deploy",
                            answers(200, "Deleted", 401, 403, 404), parameters=[TENANT, NAME]),
    },
    "/api/functions/{tenant}/{name}/versions": {
        "get": operation("Version history", "token with scope deploy", answers(200, "VersionList", 401, 403, 404),
                         parameters=[TENANT, NAME])},
    "/api/functions/{tenant}/{name}/rollback": {
        "post": operation(
            "Roll back: an earlier version's code and configuration becomes the next version",
            "token with scope deploy", answers(200, "RolledBack", *DEPLOY_ERRORS), parameters=[TENANT, NAME],
            body={"required": False, "content": {"application/json": {"schema": ref("RollbackRequest")}}},
            description="Atomic like a deploy. The secrets stay as they are now.")},
    "/api/functions/{tenant}/{name}/secrets": {
        "get": operation("Secret names of the current version", "token with scope deploy",
                         answers(200, "SecretList", 401, 403, 404), parameters=[TENANT, NAME])},
    "/api/functions/{tenant}/{name}/secrets/{secret}": {
        "put": operation("Set a secret: the function's next version has it", "token with scope deploy",
                         answers(200, "Function", 401, 403, 404, 409, 429), parameters=[TENANT, NAME, SECRET],
                         body=json_body("SecretValue")),
        "delete": operation("Remove a secret: the function's next version lacks it", "token with scope deploy",
                            answers(200, "Function", 401, 403, 404, 409, 429), parameters=[TENANT, NAME, SECRET]),
    },
    "/api/run/{tenant}": {"post": operation(
        "Run the body once (no snapshot)", "token with scope run", answers(200, None, *DEPLOY_ERRORS, 502),
        parameters=[TENANT],
        body={"required": True, "content": {"application/json": {"schema": ref("RunRequest")},
                                            "text/javascript": {"schema": STRING},
                                            "application/wasm": {"schema": {"type": "string", "format": "binary"}}}},
        description="The result is the response: a Response as is, any other value as JSON.")},
    "/api/logs/{tenant}": {"get": operation(
        "The tenant's live log", "token with scope logs",
        {"200": {"description": "server-sent events, one JSON record each",
                 "content": {"text/event-stream": {"schema": STRING}}}, **answers(200, None, 401, 403, 404, 429)},
        parameters=[TENANT, {"name": "replay", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]},
                             "description": "0: live records only"}],
        description="Resumes after Last-Event-ID.")},
}

EDGE_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
EDGE_PATHS = (("/run/{tenant}/{name}", [TENANT, NAME]), ("/run/{tenant}/{name}/{path}", [TENANT, NAME, PATH]))
for path, parameters in EDGE_PATHS:
    PATHS[path] = {method: operation(
        "Call a deployed function", "public, or a token with scope run for functions deployed with auth token",
        answers(200, None, 401, 403, 404, 413, 429, 500, 502, 503, 504, 507, 508), parameters=parameters,
        description="The function sees the method, the path below it, the query, headers and body.")
        for method in EDGE_METHODS}


@functools.lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    try:
        version = package_version("wasmtask")
    except PackageNotFoundError:
        version = "0"
    return {
        "openapi": "3.1.0",
        "info": {"title": "wasmtask", "version": version,
                 "description": "Run untrusted code per HTTP request in fresh WebAssembly isolates. Every error is "
                                "the envelope {\"error\": {\"code\", \"message\", \"request_id\"}}; each code has one "
                                "status (gateway/errors.py)."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "the admin key, or a tenant token (HS256 JWT from POST /api/tokens)"}}},
    }


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def docs(request: Request) -> Response:
    return HTMLResponse(docs_page(openapi_document()))


def docs_page(document: dict[str, Any]) -> str:
    """One page: every operation with its parameters, body and answers (the JSON is one link away)."""
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>wasmtask API</title><style>"
        "body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "code{background:#f3f3f3;padding:0 .2em}.op{border-top:1px solid #ddd;padding:.6rem 0}"
        ".m{display:inline-block;min-width:4.5rem;font-weight:600;text-transform:uppercase}"
        ".who,.d{color:#555}</style></head><body>",
        f"<h1>wasmtask API <small>{esc(document['info']['version'])}</small></h1>",
        f"<p>{esc(document['info']['description'])}</p>",
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1).</p>",
    ]
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            if path.startswith("/run/") and method not in ("get", "post"):
                continue
            parts.append(f"<div class='op'><span class='m'>{esc(method)}</span> <code>{esc(path)}</code>"
                         f" — {esc(op['summary'])}")
            if op.get("description"):
                parts.append(f"<div class='d'>{esc(op['description'])}</div>")
            body = op.get("requestBody", {}).get("content", {})
            if body:
                parts.append(f"<div>body: {esc(', '.join(body))}</div>")
            statuses = ", ".join(f"{status} {esc(answer['description'])}" for status, answer in op["responses"].items())
            parts.append(f"<div class='who'>answers: {statuses}</div></div>")
    parts.append("<p>Every edge path (<code>/run/{tenant}/{name}[/{path}]</code>) takes GET, HEAD, POST, PUT, "
                 "PATCH, DELETE and OPTIONS.</p></body></html>")
    return "".join(parts)


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs, methods=["GET"]),
]
