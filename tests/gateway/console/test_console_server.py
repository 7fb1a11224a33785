"""The console's origin: the page, hashed long-cached assets, the strict CSP, and nothing else."""

from __future__ import annotations

import re

import httpx

from gateway.console.assets import load
from tests.gateway.console.conftest import ConsoleSite

HASHED = re.compile(r"/assets/([a-z-]+)-[A-Z0-9]{8}\.(js|css)")


def test_the_page_names_hashed_assets_and_is_short_cached(site: ConsoleSite) -> None:
    page = httpx.get(site.console.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assets = HASHED.findall(page.text)
    assert sorted(assets) == [("console", "css"), ("console", "js")]
    assert f'content="{site.gateway.url}"' in page.text  # the API's URL, in a meta tag (no inline script)
    assert "<script>" not in page.text


def test_assets_are_cached_for_a_year_under_their_content_hash(site: ConsoleSite) -> None:
    manifest = load()
    page = httpx.get(site.console.url + "/").text
    for match in HASHED.finditer(page):
        response = httpx.get(site.console.url + match.group(0))
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        name = match.group(0).rsplit("/", 1)[1]
        assert name in manifest.hashed_names()
        assert response.content == (manifest.directory / name).read_bytes()
    js = httpx.get(site.console.url + "/assets/" + manifest.files["console.js"])
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"


def test_an_unknown_or_traversing_asset_is_not_found(site: ConsoleSite) -> None:
    for path in ("/assets/console.js", "/assets/..%2Fmanifest.json", "/assets/nope-AAAAAAAA.js", "/favicon.ico"):
        response = httpx.get(site.console.url + path)
        assert response.status_code == 404, path
        assert "content-security-policy" in response.headers


def test_every_answer_carries_the_strict_policy(site: ConsoleSite) -> None:
    for path in ("/", "/embed.js", "/embed-demo", "/nothing"):
        headers = httpx.get(site.console.url + path).headers
        policy = headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"  # no inline script, no eval
        if path in ("/", "/embed-demo"):  # CodeMirror's one <style> element, by a nonce new with each page
            assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{24}'", directives["style-src"])
        else:
            assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["connect-src"] == f"'self' {site.gateway.url}"
        assert "unsafe" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"


def test_the_embed_script_has_a_stable_short_cached_name(site: ConsoleSite) -> None:
    response = httpx.get(site.console.url + "/embed.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert b"WasmtaskEditor" in response.content
    assert response.content == load().path("wasmtask-editor.js").read_bytes()


def test_the_console_origin_serves_no_api_and_no_function(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    headers = api.token(tenant)
    api.deployed(tenant, "page", 'export default { fetch() { return new Response("<h1>hi</h1>", '
                                 '{headers: {"content-type": "text/html"}}) } }', headers)
    assert httpx.get(f"{site.gateway.url}/run/{tenant}/page").text == "<h1>hi</h1>"
    for path in (f"/run/{tenant}/page", f"/api/functions/{tenant}", f"/api/run/{tenant}", "/docs"):
        response = httpx.request("GET", site.console.url + path, headers=headers)
        assert response.status_code == 404, path
        assert "hi" not in response.text


def test_only_the_hashed_files_of_the_manifest_are_served(site: ConsoleSite) -> None:
    manifest = load()
    assert set(manifest.files) == {"console.js", "console.css", "wasmtask-editor.js", "embed-demo.js"}
    for logical, name in manifest.files.items():
        stem, suffix = logical.rsplit(".", 1)
        assert re.fullmatch(rf"{stem}-[A-Z0-9]{{8}}\.{suffix}", name), name


def test_the_style_nonce_is_new_with_every_page(site: ConsoleSite) -> None:
    nonces = []
    for _ in range(2):
        page = httpx.get(site.console.url + "/")
        nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
        assert nonce is not None
        assert f'<meta name="wasmtask-style-nonce" content="{nonce.group(1)}">' in page.text
        nonces.append(nonce.group(1))
    assert nonces[0] != nonces[1]
