"""``wasmtask jobs submit|get|list`` (async jobs) and ``wasmtask runs [NAME]`` (a function's run history)."""

from __future__ import annotations

import time
from typing import Any

import click

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.client import path as api_path
from gateway.cli.errors import EXIT_FAILED
from gateway.cli.options import DURATION, PAIR, connection_options, json_option, request_body, tenant_option
from gateway.cli.target import current_project, resolve_function, resolve_tenant

FINISHED = ("succeeded", "failed", "dead")


@click.group()
def jobs() -> None:
    """Queue runs of a function and read their results later (async jobs)."""


def _tenant(connection: Connection, tenant: str | None) -> str:
    return resolve_tenant(tenant, connection, current_project() if tenant is None else None)


def _when(timestamp: float | None) -> str:
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(timestamp))


def show_job(job: dict[str, Any]) -> None:
    rows: list[tuple[str, Any]] = [
        ("id", job["id"]), ("function", job["function"]), ("source", job["source"]), ("status", job["status"]),
        ("attempts", f"{job['attempts']} of {job['max_attempts']}"), ("created", _when(job["created_at"])),
    ]
    if job.get("idempotency_key"):
        rows.append(("idempotency key", job["idempotency_key"]))
    if job.get("next_attempt_at"):
        rows.append(("next attempt", _when(job["next_attempt_at"])))
    if job.get("finished_at"):
        rows.append(("finished", _when(job["finished_at"])))
    if job.get("duration_ms") is not None:
        rows.append(("duration", f"{job['duration_ms']:.1f} ms, {job.get('fuel_used') or 0:,} fuel"))
    if job.get("error"):
        rows.append(("error", f"{job['error']['code']}: {job['error']['message']}"))
    result = job.get("result")
    if result is not None:
        shown = output.json_text(result["value"]) if result["kind"] == "json" else \
            f"HTTP {result['status']} {result.get('body', '(binary body)')}"
        rows.append(("result", shown))
    output.fields(rows)


def _exit(job: dict[str, Any]) -> int:
    return EXIT_FAILED if job["status"] in ("failed", "dead") else 0


@jobs.command("submit")
@click.argument("function", metavar="[NAME]", required=False)
@tenant_option
@click.option("--query", "-q", type=PAIR, multiple=True, help="A query parameter K=V the function sees (repeatable).")
@click.option("--data", "-d", metavar="DATA", help="The body as is: text, @FILE, or - for stdin.")
@click.option("--body", metavar="JSON", help="A JSON body (checked; content-type application/json); @FILE or -.")
@click.option("--idempotency-key", "-k", metavar="KEY", help="Submit at most once with this key (a retry is safe).")
@click.option("--wait", "-w", "wait", type=DURATION, metavar="DURATION",
              help="Wait for the result this long (e.g. 10s; at most 30s).")
@connection_options
@json_option
def submit(connection: Connection, function: str | None, tenant: str | None, query: tuple[tuple[str, str], ...],
           data: str | None, body: str | None, idempotency_key: str | None, wait: int | None) -> int:
    """Queue a run of function NAME: prints the job id at once (or, with --wait, the result)."""
    project = current_project() if function is None or tenant is None else None
    function_name = resolve_function(function, project)
    tenant_name = resolve_tenant(tenant, connection, project)
    content, content_type = request_body(data, body)
    headers = {"content-type": content_type} if content_type else {}
    if idempotency_key:
        headers["idempotency-key"] = idempotency_key
    with connection.client() as client:
        job = client.json("POST", api_path("api", "jobs", tenant_name, function_name), params=list(query),
                          headers=headers, content=content)
        if wait:
            job = client.json("GET", api_path("api", "jobs", tenant_name, job["id"]), params={"wait": f"{wait}ms"})
    output.emit(job, lambda: show_job(job) if wait else output.say(f"{job['id']} ({job['status']})"))
    return _exit(job)


@jobs.command("get")
@click.argument("job_id", metavar="JOB")
@tenant_option
@click.option("--wait", "-w", "wait", type=DURATION, metavar="DURATION",
              help="Wait this long for the job to finish (e.g. 10s; at most 30s).")
@connection_options
@json_option
def get_job(connection: Connection, job_id: str, tenant: str | None, wait: int | None) -> int:
    """A job's status and, once finished, its result. Exits 1 when it failed or is dead."""
    tenant_name = _tenant(connection, tenant)
    params = {"wait": f"{wait}ms"} if wait else {}
    with connection.client() as client:
        job = client.json("GET", api_path("api", "jobs", tenant_name, job_id), params=params)
    output.emit(job, lambda: show_job(job))
    return _exit(job)


@jobs.command("list")
@click.option("--function", "-f", "function", metavar="NAME", help="Only this function's jobs.")
@click.option("--status", "-s", type=click.Choice(["queued", "running", *FINISHED]), help="Only jobs in this state.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@tenant_option
@connection_options
@json_option
def list_jobs(connection: Connection, function: str | None, status: str | None, limit: int,
              tenant: str | None) -> int:
    """The tenant's jobs, newest first (finished ones are kept for a day)."""
    tenant_name = _tenant(connection, tenant)
    params: dict[str, Any] = {"limit": limit}
    if function:
        params["function"] = function
    if status:
        params["status"] = status
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "jobs", tenant_name), params=params)
    output.emit(answer, lambda: output.table(
        ["JOB", "FUNCTION", "SOURCE", "STATUS", "ATTEMPTS", "CREATED", "ERROR"],
        [(job["id"], job["function"], job["source"], job["status"], job["attempts"], output.ago(job["created_at"]),
          (job["error"] or {}).get("code", "")) for job in answer["jobs"]],
        empty=f"(tenant {tenant_name} has no jobs: `wasmtask jobs submit NAME` queues one)"))
    return 0


@click.command()
@click.argument("function", metavar="[NAME]", required=False)
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@tenant_option
@connection_options
@json_option
def runs(connection: Connection, function: str | None, limit: int, tenant: str | None) -> int:
    """Function NAME's recent runs by cron and async jobs: when, how long, code, fuel (a token with logs)."""
    project = current_project() if function is None or tenant is None else None
    function_name = resolve_function(function, project)
    tenant_name = resolve_tenant(tenant, connection, project)
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "runs", tenant_name, function_name), params={"limit": limit})

    def human() -> None:
        schedule = answer.get("schedule")
        if schedule:
            output.say(f"schedule {schedule['schedule']} (UTC), next run {_when(schedule['next_run'])}")
        output.table(
            ["STARTED", "SOURCE", "CODE", "STATUS", "DURATION", "FUEL", "VERSION", "JOB", "ATTEMPT"],
            [(_when(run["started_at"]), run["source"], run["code"], run["status"] or "-",
              f"{run['duration_ms']:.1f} ms", f"{run['fuel_used']:,}", run["version"] or "-", run["job"],
              run["attempt"]) for run in answer["runs"]],
            empty=f"({function_name} has not run by cron or as a job yet)")

    output.emit(answer, human)
    return 0
