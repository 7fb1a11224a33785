"""``wasmtask bench --name`` (a deployed function's versions, measured here) and ``--http`` (load over HTTP), against
a real gateway on loopback. Counts and plumbing only, never wall-clock thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.gateway.cli.support import Cli
from tests.gateway.cli.test_bench import loop_source
from tests.gateway.support import Api

QUICK = ("--budget", "2s", "--min-runs", "10", "--max-runs", "30", "--warmup", "1")


@pytest.fixture
def two_versions(api: Api, tenant: str, token: dict[str, str]) -> str:
    """``loop`` deployed twice: v1 loops 1000 times, v2 2000 times (8 fuel units an iteration) and grows 2 pages
    (its one page of memory to three)."""
    api.deployed(tenant, "loop", loop_source(1000), token, language="wasm")
    api.deployed(tenant, "loop", loop_source(2000, grow=2), token, language="wasm")
    return "loop"


def test_two_deployed_versions_side_by_side(cli: Cli, two_versions: str, tmp_path: Path) -> None:
    ran = cli("bench", "--tenant", cli.tenant, "--name", two_versions, "--version", "v1,v2", "--json", *QUICK)
    assert ran.status == 0, ran.err
    first, second = ran.json()["functions"]
    assert (first["name"], second["name"]) == ("loop@v1", "loop@v2")
    assert first["language"] == second["language"] == "wasm"
    assert first["fuel"]["constant"] and second["fuel"]["constant"]
    assert second["fuel"]["median"] - first["fuel"]["median"] >= 1000 * 8
    (tmp_path / "v1.wat").write_text(loop_source(1000))
    (tmp_path / "v2.wat").write_text(loop_source(2000, grow=2))
    local = cli("bench", str(tmp_path / "v1.wat"), str(tmp_path / "v2.wat"), "--json", *QUICK).json()["functions"]
    assert [entry["fuel"]["median"] for entry in local] == [first["fuel"]["median"], second["fuel"]["median"]]
    assert (first["peak_memory_bytes"]["median"], second["peak_memory_bytes"]["median"]) == (65536, 3 * 65536)
    assert first["errors"] == second["errors"] == {}


def test_without_a_version_the_current_one_is_measured(cli: Cli, two_versions: str) -> None:
    ran = cli("bench", "--name", two_versions, "--json", *QUICK)  # the tenant: the token's
    assert ran.status == 0, ran.err
    assert [entry["name"] for entry in ran.json()["functions"]] == ["loop@v2"]


def test_an_unknown_version_is_the_gateways_not_found(cli: Cli, two_versions: str) -> None:
    ran = cli("bench", "--name", two_versions, "--version", "v9", "--json", *QUICK)
    assert ran.status != 0
    assert ran.json()["error"]["code"] == "not_found"
    assert "no version v9" in ran.json()["error"]["message"]


def test_a_deployed_version_compares_against_a_local_baseline(cli: Cli, two_versions: str, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    saved = cli("bench", "--name", two_versions, "--version", "v1", "--json", *QUICK)
    baseline.write_text(saved.out.replace("loop@v1", "loop@v2"))  # as if v1 had been the current version then
    ran = cli("bench", "--name", two_versions, "--compare", str(baseline), "--p99-threshold", "100000%", *QUICK)
    assert ran.status == 1
    assert "regressed: fuel, memory" in ran.out


def load_rows(cli: Cli, *argv: str) -> list[dict[str, Any]]:
    ran = cli("bench", "--json", "--duration", "1s", *argv)
    assert ran.status == 0, ran.err
    rows: list[dict[str, Any]] = ran.json()["load"]
    return rows


@pytest.mark.parametrize("generator", ["auto", "python"])
def test_http_load_gives_one_row_per_concurrency(cli: Cli, api: Api, generator: str) -> None:
    # a tenant whose rate and concurrency limits the load stays under (the test tenants' would answer 429)
    tenant = api.create_tenant(rate_limit={"per_second": 1_000_000, "burst": 1_000_000}, concurrency=64)
    token = api.token(tenant)
    api.deployed(tenant, "echo", "export default { fetch(r) { return new Response(new URL(r.url).search); } };",
                 token)
    rows = load_rows(cli, "--tenant", tenant, "--token", token["authorization"].removeprefix("Bearer "),
                     "--name", "echo", "--http", "--concurrency", "1,4", "--load-generator", generator,
                     "-q", "n=7", *QUICK)
    assert [row["concurrency"] for row in rows] == [1, 4]
    for row in rows:
        assert row["target"] == f"{api.url}/run/{tenant}/echo?n=7"
        assert row["generator"] in ({"wrk", "python"} if generator == "auto" else {"python"})
        assert row["requests"] > 0 and row["ok_per_second"] > 0
        assert row["non_2xx"] == 0 and row["socket_errors"] == {}
        assert 0 < row["p50_ms"] <= row["p99_ms"]


CHECKER = """export default {
  async fetch(request) {
    const right = request.method === "PUT" && request.headers.get("x-check") === "yes"
      && await request.text() === %s;
    return new Response(right ? "ok" : "not the request sent", { status: right ? 200 : 400 });
  },
};"""


@pytest.mark.parametrize("generator", ["auto", "python"])
def test_http_load_sends_the_method_headers_and_body_given(cli: Cli, api: Api, generator: str) -> None:
    tenant = api.create_tenant(rate_limit={"per_second": 1_000_000, "burst": 1_000_000}, concurrency=64)
    token = api.token(tenant)
    body = 'quotes " and \\ backslashes,\nlines, ü and {"json": [1]}'
    api.deployed(tenant, "checker", CHECKER % orjson.dumps(body).decode(), token)
    rows = load_rows(cli, "--tenant", tenant, "--token", token["authorization"].removeprefix("Bearer "),
                     "--name", "checker", "--http", "--concurrency", "2", "--load-generator", generator,
                     "-X", "PUT", "-H", "x-check: yes", "-d", body, *QUICK)
    assert rows[0]["requests"] > 0 and rows[0]["non_2xx"] == 0  # every answer a 200: each request was right


def test_http_load_beside_the_in_process_numbers(cli: Cli, api: Api, two_versions: str) -> None:
    ran = cli("bench", "--name", two_versions, "--http", "--concurrency", "2", "--duration", "1s", *QUICK)
    assert ran.status == 0, ran.err
    in_process, load = ran.out.split("\n\n")
    assert in_process.startswith("| function |") and "| loop@v2 |" in in_process
    assert load.startswith("| target | concurrency |") and f"| {api.url}/run/{cli.tenant}/loop | 2 |" in load


def test_http_load_of_a_url_counts_the_refusals(cli: Cli, api: Api, tenant: str) -> None:
    rows = load_rows(cli, "--http", f"{api.url}/run/{tenant}/missing", "--concurrency", "1",
                     "--load-generator", "python")
    assert rows[0]["requests"] > 0 and rows[0]["non_2xx"] == rows[0]["requests"]  # 404s, every one
    assert rows[0]["ok_per_second"] == 0


def test_http_needs_a_url_or_a_deployed_function(cli: Cli) -> None:
    assert cli("bench", "--http").status == 2
    assert cli("bench").status == 2
