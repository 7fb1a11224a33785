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
    "FunctionVersion": {"allOf": [ref("Function"), obj({"code_base64": {
        **STRING, "description": "the code as stored (source text, WAT, or a Wasm binary), base64"}})]},
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
        "expires_in": {**INTEGER, "description": "seconds"}, "limits": ref("Limits"),
        "function": {**STRING, "description": "narrow the token to this one function"}}, ("tenant",)),
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
        "post": operation("Create a tenant (on the control plane's listener; here: 421 control_plane_route)",
                          "admin key", answers(201, "Tenant", 401, 403, 409), body=json_body("TenantRequest")),
        "get": operation("List tenants (control plane)", "admin key", answers(200, "TenantList", 401, 403)),
    },
    "/api/tenants/{tenant}": {
        "get": operation("A tenant's limits", "admin key, or any token of the tenant",
                         answers(200, "Tenant", 401, 403, 404), parameters=[TENANT]),
        "delete": operation("Delete a tenant, its functions and versions (control plane)", "admin key",
                            answers(200, None, 401, 403, 404), parameters=[TENANT]),
    },
    "/api/tokens": {"post": operation("Issue a tenant token (an Ed25519-signed JWT, with its jti; control plane)",
                                      "admin key", answers(201, "Token", 401, 403, 404),
                                      body=json_body("TokenRequest"))},
    "/api/tokens/revoke": {"post": operation(
        "Revoke a token: {\"jti\": ...} or {\"token\": ...}; every serving process refuses it within the change "
        "poll (control plane)", "admin key, or a token of the same tenant", answers(200, None, 400, 401, 403, 404))},
    "/api/tokens/{jti}": {"delete": operation(
        "Revoke the token with this id (control plane)", "admin key, or a token of the same tenant",
        answers(200, None, 401, 403, 404),
        parameters=[{"name": "jti", "in": "path", "required": True, "schema": {"type": "string"}}])},
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
    "/api/functions/{tenant}/{name}/versions/{version}": {
        "get": operation("One version with its code", "token with scope deploy",
                         answers(200, "FunctionVersion", 401, 403, 404),
                         parameters=[TENANT, NAME, {"name": "version", "in": "path", "required": True,
                                                    "schema": {**STRING, "examples": ["v2", "current"]}}])},
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
                             "description": "0: live records only"},
                    {"name": "function", "in": "query", "schema": STRING,
                     "description": "that function's records only (a token narrowed to one function: its own)"}],
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

# Async jobs and run history (gateway/routes/jobs.py, runs.py)
SCHEMAS.update({
    "Job": obj({
        "id": STRING, "tenant": STRING, "function": STRING,
        "source": {"type": "string", "enum": ["job", "cron"]},
        "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "dead"],
                   "description": "failed: the function failed (never retried); dead: retries ran out"},
        "attempts": INTEGER, "max_attempts": INTEGER, "idempotency_key": {"type": ["string", "null"]},
        "created_at": NUMBER, "started_at": {"type": ["number", "null"]}, "finished_at": {"type": ["number", "null"]},
        "next_attempt_at": {"type": ["number", "null"]},
        "result": {"description": "{kind: json, value} or {kind: response, status, headers, body | body_base64}"},
        "error": {"type": ["object", "null"], "description": "{code, message} of the last failed attempt"},
        "fuel_used": {"type": ["integer", "null"]}, "duration_ms": {"type": ["number", "null"]}}),
    "JobList": obj({"tenant": STRING, "jobs": {"type": "array", "items": ref("Job")}}),
    "RunList": obj({"tenant": STRING, "name": STRING,
                    "schedule": {"type": ["object", "null"], "description": "{schedule, next_run, last_run}"},
                    "runs": {"type": "array", "items": obj({
                        "source": STRING, "job": STRING, "attempt": INTEGER, "version": STRING,
                        "started_at": NUMBER, "duration_ms": NUMBER, "code": STRING,
                        "status": {"type": ["integer", "null"]}, "fuel_used": INTEGER})}}),
})
SCHEMAS["DeployRequest"]["properties"]["schedule"] = {
    "type": ["string", "null"], "examples": ["*/5 * * * *"],
    "description": "cron (five fields, UTC, at most once a minute): the function runs at each tick; "
                   "null or \"\" removes it; omitted: kept"}
JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^job_[0-9a-f]{32}$"}}
PATHS.update({
    "/api/jobs/{tenant}/{name}": {"post": operation(
        "Queue an async run of a deployed function", "token with scope run",
        {"202": {"description": "Accepted", "content": {"application/json": {"schema": ref("Job")}}},
         **answers(200, None, 401, 403, 404, 409, 413, 429)}, parameters=[TENANT, NAME, {
            "name": "Idempotency-Key", "in": "header", "schema": STRING,
            "description": "the same key answers the same job (while it is kept)"}],
        body={"required": False, "content": {"*/*": {"schema": STRING}}},
        description="Answers at once; a worker runs the function later (at least once), with the body, its "
                    "content type and the query string.")},
    "/api/jobs/{tenant}/{id}": {"get": operation(
        "A job's status and result", "token with scope run", answers(200, "Job", 401, 403, 404),
        parameters=[TENANT, JOB_ID, {"name": "wait", "in": "query", "schema": {**STRING, "examples": ["10s"]},
                                     "description": "hold the answer until the job finishes (at most 30s)"}])},
    "/api/jobs/{tenant}": {"get": operation(
        "The tenant's jobs, newest first", "token with scope run", answers(200, "JobList", 401, 403, 404),
        parameters=[TENANT, {"name": "function", "in": "query", "schema": NAMES},
                    {"name": "status", "in": "query", "schema": STRING},
                    {"name": "limit", "in": "query", "schema": INTEGER}])},
    "/api/runs/{tenant}/{name}": {"get": operation(
        "A function's run history (cron ticks and jobs), newest first", "token with scope logs",
        answers(200, "RunList", 401, 403, 404), parameters=[TENANT, NAME, {
            "name": "limit", "in": "query", "schema": INTEGER}])},
})


# A function's storage, for its owner (gateway/routes/storage.py)
SCHEMAS.update({
    "StorageDocument": obj({"data": {"description": "the function's JSON document (null: none yet)"},
                            "version": {**INTEGER, "description": "grows by one per write; 0: none yet"}}),
    "StorageWrite": obj({"data": {"description": "the new document (at most 500 KB of JSON)"},
                         "version": {**INTEGER, "description": "the version this write is based on: a conflict "
                                                               "(409) when the document moved on; omitted: written "
                                                               "whatever is there"}}, ("data",)),
    "StorageWritten": obj({"version": INTEGER}),
    "KVList": obj({"keys": {"type": "array", "items": obj({"name": STRING, "expiration": INTEGER})},
                   "list_complete": {"type": "boolean"}, "cursor": STRING}),
})
KV_KEY = {"name": "key", "in": "path", "required": True, "schema": STRING,
          "description": "the rest of the path, percent-decoded"}
PATHS.update({
    "/api/storage/{tenant}/{name}": {
        "get": operation("The function's document (webtask's ctx.storage)", "token with scope deploy",
                         answers(200, "StorageDocument", 401, 403, 404, 429), parameters=[TENANT, NAME]),
        "put": operation("Write the function's document", "token with scope deploy",
                         answers(200, "StorageWritten", 401, 403, 404, 409, 413, 429), parameters=[TENANT, NAME],
                         body=json_body("StorageWrite")),
    },
    "/api/kv/{tenant}/{name}": {"get": operation(
        "List the function's KV keys, in byte order", "token with scope deploy",
        answers(200, "KVList", 401, 403, 404, 429), parameters=[TENANT, NAME] + [
            {"name": n, "in": "query", "schema": s} for n, s in (("prefix", STRING), ("limit", INTEGER),
                                                                  ("cursor", STRING))])},
    "/api/kv/{tenant}/{name}/{key}": {
        "get": operation("A KV value: its bytes (text/plain for a string)", "token with scope deploy",
                         answers(200, None, 401, 403, 404, 429), parameters=[TENANT, NAME, KV_KEY]),
        "put": operation("Write a KV value (the body; a string unless application/octet-stream)",
                         "token with scope deploy", answers(200, None, 401, 403, 404, 413, 429, 507),
                         parameters=[TENANT, NAME, KV_KEY, {"name": "expiration_ttl", "in": "query",
                                                            "schema": INTEGER, "description": "seconds, at least 60"}],
                         body={"required": True, "content": {"*/*": {"schema": STRING}}}),
        "delete": operation("Delete a KV key", "token with scope deploy", answers(200, None, 401, 403, 404, 429),
                            parameters=[TENANT, NAME, KV_KEY]),
    },
})

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
                       "description": "the admin key, or a tenant token (an EdDSA JWT from POST /api/tokens)"}}},
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
