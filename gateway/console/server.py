"""The console's own origin: its page and its built assets, nothing else (no API, no guest response ever).

GET /                 the page (short-cached: ``no-cache``), naming the hashed assets and the API's URL
GET /assets/NAME      a built, content-hashed asset (cached for a year, ``immutable``); 404 for any other name
GET /embed.js         the embeddable editor (``WasmtaskEditor``) under a stable name, cached 5 minutes
GET /embed-demo       a page embedding one function's editor (the embed's example and its browser test)

Every answer carries the strict Content-Security-Policy (scripts only from this
origin: no inline script, no eval; styles from this origin and, on the pages, the one
<style> element CodeMirror makes, allowed by a nonce new with every response; ``connect-src`` this origin and the API's,
``frame-ancestors 'none'``) and ``nosniff``; the page holds the token in
sessionStorage and sends it to the API in an ``Authorization`` header.

``wasmtask serve`` runs this app on its own port (``--console-port``; default the
serving port + 2, 8082, as + 1 is the control plane's) on a thread of the serving
process (``start_console``), and adds the console's origin to the API's CORS origins.
"""

from __future__ import annotations

import dataclasses
import html
import os
import secrets
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway.config import Settings
from gateway.console.assets import WEB, AssetsMissing, Manifest, load

LONG_CACHE = "public, max-age=31536000, immutable"
PAGE_CACHE = "no-cache"
EMBED_CACHE = "public, max-age=300"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".map": "application/json"}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (what CORS and CSP compare)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(api_url: str, style_nonce: str | None = None) -> str:
    """The policy of every answer. ``style_nonce``: the page's one-use nonce for the <style> element
    CodeMirror creates (its ``cspNonce``); scripts get none: only this origin's files run."""
    api = origin_of(api_url)
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'" + (f" 'nonce-{style_nonce}'" if style_nonce else ""),
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self' {api}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])


def security_headers(api_url: str, style_nonce: str | None = None) -> dict[str, str]:
    return {
        "content-security-policy": content_security_policy(api_url, style_nonce),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
    }


def render_page(template: str, manifest: Manifest, api_url: str) -> str:
    """index.html / embed-demo.html with the hashed asset names and the API's URL (attributes, escaped)."""
    page = template.replace("{{api_url}}", html.escape(api_url, quote=True))
    for logical, name in manifest.files.items():
        page = page.replace("{{" + logical + "}}", "/assets/" + html.escape(name, quote=True))
    return page


def console_app(api_url: str, manifest: Manifest | None = None) -> Starlette:
    """The console's app for the gateway at ``api_url``. ``AssetsMissing`` when not built."""
    built = manifest or load()
    headers = security_headers(api_url)
    pages = {name: render_page((WEB / f"{name}.html").read_text(), built, api_url) for name in ("index", "embed-demo")}
    # Read once, served from memory: the serving process may confine itself after boot (gateway/confinement).
    bodies = {name: (built.directory / name).read_bytes() for name in built.hashed_names()}
    embed_name = built.files["wasmtask-editor.js"]

    def page(name: str) -> Response:
        nonce = secrets.token_urlsafe(18)
        return Response(pages[name].replace("{{style_nonce}}", nonce), media_type="text/html; charset=utf-8",
                        headers={**security_headers(api_url, nonce), "cache-control": PAGE_CACHE})

    async def index(request: Request) -> Response:
        return page("index")

    async def embed_demo(request: Request) -> Response:
        return page("embed-demo")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in bodies:
            return PlainTextResponse("no such asset", status_code=404, headers={**headers, "cache-control": PAGE_CACHE})
        return Response(bodies[name], media_type=CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
                        headers={**headers, "cache-control": LONG_CACHE})

    async def embed(request: Request) -> Response:
        return Response(bodies[embed_name], media_type=CONTENT_TYPES[".js"],
                        headers={**headers, "cache-control": EMBED_CACHE,
                                 "cross-origin-resource-policy": "cross-origin"})

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("not found", status_code=404, headers={**headers, "cache-control": PAGE_CACHE})

    return Starlette(routes=[
        Route("/", index, methods=["GET", "HEAD"]),
        Route("/embed-demo", embed_demo, methods=["GET", "HEAD"]),
        Route("/assets/{name}", asset, methods=["GET", "HEAD"]),
        Route("/embed.js", embed, methods=["GET", "HEAD"]),
    ], exception_handlers={404: not_found, 405: not_found})


def console_settings(settings: Settings, host: str, port: int) -> tuple[Settings, str]:
    """The console's URL on ``host:port``, and ``settings`` whose CORS origins include it (also put in
    the environment, for the workers ``wasmtask serve --workers N`` starts)."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    origins = tuple(dict.fromkeys([*settings.console_origins, url]))
    os.environ["WASMTASK_CONSOLE_ORIGINS"] = ",".join(origins)
    return dataclasses.replace(settings, console_origins=origins), url


def start_console(api_url: str, host: str, port: int) -> None:
    """Serve the console on ``host:port`` on a daemon thread of this process (it dies with it).
    ``AssetsMissing`` when the assets are not built, ``OSError`` when the port is taken."""
    app = console_app(api_url)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY: serving.py
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    # log_config=None: the serving process configured logging; the console leaves it as it is
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="wasmtask-console", daemon=True).start()


__all__ = ["AssetsMissing", "console_app", "console_settings", "content_security_policy", "origin_of", "start_console"]
