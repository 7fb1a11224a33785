"""Deploys of several JavaScript files (a JSON map, a zip, a tar) and of npm imports, through the real gateway.

Bundling needs esbuild and the npm set (`make toolchains`): those tests skip locally without them and
fail in CI; the refusals of bad paths and archives need neither.
"""

from __future__ import annotations

import io
import tarfile
import zipfile

from tests.gateway.support import Api, error_code
from tests.toolchains.support import require_bundler

INDEX = """
import { greet } from "./lib/greet.js";
export default { fetch(request) { return new Response(greet(new URL(request.url).searchParams.get("name"))); } };
"""
GREET = 'export function greet(name) { return "hello, " + name; }\n'
# A bundle's libraries are compiled at deploy like any top-level code, metered (~600 fuel a byte,
# more while the runtime scans the source for lazy-module hints): more than the default 200 M for some.
FUEL = {"fuel": 1_000_000_000}


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def tar_gz_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_json_map_of_files_deploys_and_runs(api: Api, tenant: str, token: dict[str, str]) -> None:
    require_bundler()
    response = api.http.put(f"/api/functions/{tenant}/multi", headers=token,
                            json={"files": {"index.js": INDEX, "lib/greet.js": GREET}, "entry": "index.js"})
    assert response.status_code == 200, response.text

    called = api.http.get(f"/run/{tenant}/multi?name=files")
    assert called.status_code == 200 and called.text == "hello, files"


def test_a_zip_and_a_tar_gz_deploy_and_run(api: Api, tenant: str, token: dict[str, str]) -> None:
    require_bundler()
    tree = {"myfn/index.js": INDEX, "myfn/lib/greet.js": GREET}  # one top directory, as zip tools pack a folder
    for name, media_type, body in (("zipped", "application/zip", zip_of(tree)),
                                   ("tarred", "application/gzip", tar_gz_of(tree))):
        response = api.http.put(f"/api/functions/{tenant}/{name}", content=body,
                                headers={**token, "content-type": media_type})
        assert response.status_code == 200, response.text
        assert api.http.get(f"/run/{tenant}/{name}?name={name}").text == f"hello, {name}"


def test_an_npm_package_of_the_set_validates_at_call_time(api: Api, tenant: str, token: dict[str, str]) -> None:
    require_bundler()
    code = """
import { z } from "zod";
import { nanoid } from "nanoid";
const Order = z.object({ item: z.string(), quantity: z.number().int().positive() });
export default {
  async fetch(request) {
    const parsed = Order.safeParse(await request.json());
    if (!parsed.success) return Response.json({ error: parsed.error.issues[0].path }, { status: 422 });
    return Response.json({ id: nanoid(10), ...parsed.data });
  },
};
"""
    api.deployed(tenant, "orders", code, token, limits=FUEL)  # one file with imports: bundled too

    good = api.http.post(f"/run/{tenant}/orders", json={"item": "tea", "quantity": 2})
    bad = api.http.post(f"/run/{tenant}/orders", json={"item": "tea", "quantity": -1})
    order = good.json()
    assert good.status_code == 200 and len(order.pop("id")) == 10 and order == {"item": "tea", "quantity": 2}
    assert bad.status_code == 422 and bad.json() == {"error": ["quantity"]}


def test_node_buffer_works_in_a_deployed_function(api: Api, tenant: str, token: dict[str, str]) -> None:
    require_bundler()
    code = """
const { Buffer } = require("node:buffer");
module.exports = function (ctx, cb) {
  cb(null, { hex: Buffer.from(ctx.query.text, "utf8").toString("hex"), back: Buffer.from("6869", "hex").toString() });
};
"""
    api.deployed(tenant, "buf", code, token, limits=FUEL)

    assert api.http.get(f"/run/{tenant}/buf?text=ok").json() == {"hex": "6f6b", "back": "hi"}


def test_a_missing_module_fails_the_deploy_naming_it(api: Api, tenant: str, token: dict[str, str]) -> None:
    require_bundler()
    response = api.deploy(tenant, "pad", 'import leftPad from "left-pad";\nexport default { fetch() {} };\n', token)

    assert response.status_code == 400 and error_code(response) == "invalid_code"
    message = response.json()["error"]["message"]
    assert "module 'left-pad' is not available: the platform provides the npm packages" in message
    assert "zod" in message


def test_a_path_that_leaves_the_tree_is_refused(api: Api, tenant: str, token: dict[str, str]) -> None:
    as_json = api.http.put(f"/api/functions/{tenant}/evil", headers=token,
                           json={"files": {"index.js": "export default 1;", "../../etc/cron.d/x": "boom"}})
    as_zip = api.http.put(f"/api/functions/{tenant}/evil", content=zip_of({"index.js": "", "../evil.js": ""}),
                          headers={**token, "content-type": "application/zip"})

    for response in (as_json, as_zip):
        assert response.status_code == 400 and error_code(response) == "invalid_request"
        assert "is not a plain relative path" in response.json()["error"]["message"]
    assert api.http.get(f"/api/functions/{tenant}/evil", headers=token).status_code == 404


def test_files_are_for_javascript_and_exclude_code(api: Api, tenant: str, token: dict[str, str]) -> None:
    for fields in ({"files": {"main.c": ""}, "language": "c"}, {"files": {"index.js": ""}, "code": "x"},
                   {"entry": "index.js", "code": "module.exports = 1"}):
        response = api.http.put(f"/api/functions/{tenant}/f", headers=token, json=fields)
        assert response.status_code == 400 and error_code(response) == "invalid_request", fields


def test_a_rollback_to_a_version_of_several_files_prepares_it_again_from_its_stored_files(
        api: Api, tenant: str, token: dict[str, str]) -> None:
    require_bundler()
    files = {"index.js": INDEX, "lib/greet.js": GREET}
    first = api.http.put(f"/api/functions/{tenant}/back", headers=token, json={"files": files})
    assert first.status_code == 200, first.text
    api.deployed(tenant, "back", "export default { fetch() { return new Response('single') } };", token)
    assert api.http.get(f"/run/{tenant}/back").text == "single"

    rolled = api.http.post(f"/api/functions/{tenant}/back/rollback", json={"version": first.json()["version"]},
                           headers=token)

    assert rolled.status_code == 200, rolled.text
    assert api.http.get(f"/run/{tenant}/back?name=again").text == "hello, again"


def test_an_ad_hoc_run_takes_files_too(api: Api, tenant: str, token: dict[str, str]) -> None:
    require_bundler()
    files = {"index.js": 'const { twice } = require("./twice");\nmodule.exports = (cb) => cb(null, twice(21));\n',
             "twice.js": "exports.twice = (x) => 2 * x;\n"}

    response = api.http.post(f"/api/run/{tenant}", json={"files": files}, headers=token)

    assert response.status_code == 200 and response.json() == 42
