"""The console in a real chromium: sign in, write, deploy, run, watch, secrets, versions, and no XSS."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.gateway.console.conftest import ConsoleSite

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
XSS = "<img src=x onerror=window.__pwned=1></script><script>window.__pwned=2</script>"

# The guest logs the attack and returns it as its body; its deploy error (below) carries it too.
HELLO = """export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name");
    console.log("hello", name, %s);
    return new Response("<b>hi " + name + "</b>" + %s, {headers: {"content-type": "text/html"}});
  }
};
""" % (repr(XSS), repr(XSS))
BROKEN = """export default {
  fetch() {
    return new Response(1 +);
  }
};
"""


def open_console(browser: Any, site: ConsoleSite) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(site.console.url + "/")
    return page, problems


def type_code(page: Any, code: str) -> None:
    page.click("#editor .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def wait_text(page: Any, selector: str, text: str) -> None:
    """Until ``selector`` shows ``text`` (Playwright's own polling: a string predicate would be eval'd in
    the page, which the console's CSP refuses)."""
    from playwright.sync_api import expect

    expect(page.locator(selector).first).to_contain_text(text, timeout=15_000)


def no_script_ran(page: Any) -> None:
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 0


def test_sign_in_deploy_run_watch_and_nothing_a_guest_wrote_runs(browser: Any, site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    token = api.token(tenant)["authorization"].removeprefix("Bearer ")
    page, problems = open_console(browser, site)

    page.fill("#signin-tenant", tenant)
    page.fill("#signin-token", token)
    page.click("#signin-submit")
    page.wait_for_selector("#signout")
    assert page.evaluate("document.cookie") == ""  # the token lives in sessionStorage, never in a cookie

    # create from a template, replace the code, Ctrl-S deploys
    page.fill("#new-name", "hello")
    page.select_option("#new-template", "worker")
    page.click("#new-create")
    assert "export default" in page.inner_text("#editor .cm-content")
    type_code(page, HELLO)
    page.keyboard.press("Control+S")
    page.wait_for_selector("#status.ok")
    assert re.search(r"deployed hello v1", page.inner_text("#status"))
    page.wait_for_selector("#functions button[data-name=hello]")

    # the request builder, Ctrl-Enter runs: status, body and the call's own log line, all as text
    page.fill("#req-query", "name=ada")
    page.click("#editor .cm-content")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#resp-status")
    assert page.inner_text("#resp-status").startswith("200")
    assert "fuel" in page.inner_text("#resp-status")
    assert page.inner_text("#resp-body") == "<b>hi ada</b>" + XSS
    assert XSS in page.inner_text("#resp-logs")

    # the live log got the same line (SSE), rendered as text
    wait_text(page, "#logs", "hello ada")
    assert XSS in page.inner_text("#logs")
    no_script_ran(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-editor.png"))

    # a deploy error is shown at its line and column
    type_code(page, BROKEN)
    page.keyboard.press("Control+S")
    page.wait_for_selector("#status.error")
    assert "deploy failed" in page.inner_text("#status")
    assert re.search(r":3:\d+", page.inner_text("#status")), page.inner_text("#status")
    page.wait_for_selector(".cm-lint-marker-error")
    marker_line = page.evaluate("""() => {
        const marker = document.querySelector('.cm-lint-marker-error').closest('.cm-gutterElement');
        const lines = [...document.querySelectorAll('.cm-lineNumbers .cm-gutterElement')];
        const hit = lines.find((el) => Math.abs(el.getBoundingClientRect().top - marker.getBoundingClientRect().top) < 2);
        return hit ? hit.textContent : null; }""")
    assert marker_line == "3"

    # a deploy error whose message is the attack: shown as text in the status and at its line
    type_code(page, "const x = 1;\nthrow new Error(%s);\nexport default { fetch() { return new Response('') } };\n"
              % repr(XSS))
    page.keyboard.press("Control+S")
    wait_text(page, "#status", "deploy failed")
    assert XSS in page.inner_text("#status")
    page.hover(".cm-lintRange-error")
    wait_text(page, ".cm-tooltip-lint", "onerror=window.__pwned=1")
    no_script_ran(page)

    # the live log filtered by level: errors only (the failed deploys), then everything again
    page.select_option("#log-level", "error")
    assert "hello ada" not in page.inner_text("#logs")
    assert "deploy failed" in page.inner_text("#logs")
    page.select_option("#log-level", "debug")
    assert "hello ada" in page.inner_text("#logs")

    # secrets: a name and a new version, never the value
    page.click("#tabbtn-settings")
    page.fill("#secret-name", "API_KEY")
    page.fill("#secret-value", "s3cret-value")
    page.click("#secret-set")
    wait_text(page, "#secrets", "API_KEY")
    assert "s3cret-value" not in page.content()

    # versions: v2 came from the secret; roll back to v1 (a new version with v1's code)
    page.click("#tabbtn-versions")
    page.wait_for_selector("button[data-rollback=v1]")
    page.click("button[data-diff=v1]")
    wait_text(page, "#diff", "hello")
    page.screenshot(path=str(SHOTS / "console-versions.png"))
    page.click("button[data-rollback=v1]")
    wait_text(page, "#status", "rolled back to v1")
    assert "now v3" in page.inner_text("#status")
    assert api.http.get(f"/api/functions/{tenant}/hello", headers=api.token(tenant)).json()["version"] == "v3"

    # the charts got the call
    page.click("#tabbtn-charts")
    page.wait_for_selector("#charts svg.spark")
    page.screenshot(path=str(SHOTS / "console-charts.png"))

    # a phone-sized viewport: one column, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 800})
    page.click("#tabbtn-editor")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "console-phone.png"))

    no_script_ran(page)
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    page.close()


def test_the_embed_edits_deploys_and_runs_one_function(browser: Any, site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    api.deployed(tenant, "ext", "export default { fetch() { console.log('embedded <i>x</i>'); "
                 "return new Response('from the extension') } }", api.admin)
    token = api.token(tenant, function="ext")["authorization"].removeprefix("Bearer ")  # for "ext" only
    page = browser.new_page(viewport={"width": 390, "height": 800})  # a phone-sized viewport
    page.goto(f"{site.console.url}/embed-demo#tenant={tenant}&name=ext&token={token}")
    wait_text(page, ".wt-editor .cm-content", "from the extension")
    page.click(".wt-editor .cm-content")
    page.keyboard.press("Control+Enter")
    wait_text(page, ".wt-output", "from the extension")
    assert "embedded <i>x</i>" in page.inner_text(".wt-output")
    assert page.locator(".wt-output i").count() == 0
    page.click(".wt-deploy")
    wait_text(page, ".wasmtask-embed .status", "deployed v2")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "embed-phone.png"))
    page.close()


def test_the_embed_with_a_token_for_one_function_is_refused_on_another(browser: Any, site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    for name in ("ext", "other"):
        api.deployed(tenant, name, f"export default {{ fetch() {{ return new Response('{name} v1') }} }}", api.admin)
    token = api.token(tenant, function="ext")["authorization"].removeprefix("Bearer ")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{site.console.url}/embed-demo#tenant={tenant}&name=other&token={token}")

    wait_text(page, ".wasmtask-embed .status", "refused: the token is for function 'ext' only, not 'other'")
    page.click(".wt-editor .cm-content")
    page.keyboard.insert_text("// changed by the page")
    page.keyboard.press("Control+s")
    wait_text(page, ".wasmtask-embed .status", "deploy failed: forbidden")
    page.keyboard.press("Control+Enter")
    wait_text(page, ".wasmtask-embed .status", "run failed: forbidden")
    page.close()

    current = api.http.get(f"/api/functions/{tenant}/other", headers=api.admin).json()
    assert current["version"] == "v1", "the refused deploy changed nothing"
