"""``wasmtask jobs submit|get|list`` and ``wasmtask runs`` against a real gateway."""

from __future__ import annotations

from tests.gateway.cli.support import Cli
from tests.gateway.support import Api

ECHO = "module.exports = function (ctx, cb) { cb(null, { body: ctx.body, who: ctx.query.who }); };"
THROWS = "module.exports = function (ctx, cb) { throw new Error('nope'); };"


def test_submit_and_wait_prints_the_result_then_get_list_and_runs_show_it(api: Api, cli: Cli,
                                                                        token: dict[str, str]) -> None:
    api.deployed(cli.tenant, "echo", ECHO, token)

    done = cli("jobs", "submit", "echo", "--body", '{"n": 1}', "-q", "who=me", "--wait", "20s", "--json")
    assert done.status == 0, done.err
    job = done.json()
    assert job["status"] == "succeeded" and job["result"]["value"] == {"body": {"n": 1}, "who": "me"}

    shown = cli("jobs", "get", job["id"])
    assert shown.status == 0 and "succeeded" in shown.out and '"who":"me"' in shown.out.replace(" ", "")
    listed = cli("jobs", "list", "--function", "echo")
    assert job["id"] in listed.out and "succeeded" in listed.out
    history = cli("runs", "echo")
    assert history.status == 0 and job["id"] in history.out and " ok " in history.out


def test_submit_returns_at_once_and_an_idempotency_key_submits_once(api: Api, cli: Cli, token: dict[str, str]) -> None:
    api.deployed(cli.tenant, "echo", ECHO, token)

    first = cli("jobs", "submit", "echo", "-k", "nightly-2027-01-15", "--json")
    again = cli("jobs", "submit", "echo", "-k", "nightly-2027-01-15", "--json")

    assert first.status == again.status == 0
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] in ("queued", "running", "succeeded")
    assert cli("jobs", "get", first.json()["id"], "--wait", "20s").status == 0


def test_a_failed_job_exits_1_and_says_why(api: Api, cli: Cli, token: dict[str, str]) -> None:
    api.deployed(cli.tenant, "bad", THROWS, token)
    job_id = cli("jobs", "submit", "bad", "--json").json()["id"]

    failed = cli("jobs", "get", job_id, "--wait", "20s")

    assert failed.status == 1 and "failed" in failed.out and "guest_error" in failed.out
    assert cli("jobs", "get", "job_nope").status == 1
    assert cli("jobs", "submit", "no-such-function").status == 1


def test_a_project_deploys_its_schedule_and_removing_it_from_the_toml_removes_it(cli: Cli) -> None:
    (cli.cwd / "index.js").write_text(ECHO)
    (cli.cwd / "wasmtask.toml").write_text('name = "nightly"\nentry = "index.js"\nschedule = "0 3 * * *"\n')

    deployed = cli("deploy", "--json")
    assert deployed.status == 0, deployed.err
    assert deployed.json()["schedule"]["schedule"] == "0 3 * * *"
    assert "0 3 * * *" in cli("runs", "nightly").out

    (cli.cwd / "wasmtask.toml").write_text('name = "nightly"\nentry = "index.js"\n')
    assert cli("deploy", "--json").json()["schedule"] is None
    flagged = cli("deploy", "index.js", "--name", "nightly", "--schedule", "*/10 * * * *", "--json")
    assert flagged.json()["schedule"]["schedule"] == "*/10 * * * *"
    assert cli("deploy", "index.js", "--name", "nightly", "--json").json()["schedule"] is not None  # a file: kept
    bad = cli("deploy", "index.js", "--name", "nightly", "--schedule", "every minute")
    assert bad.status == 1 and "invalid_request" in bad.err
