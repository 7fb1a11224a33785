"""What the job queue stores and hands out: a job, its outcome, and one run of a function."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from isolates import InvokeResult

JobStatus = Literal["queued", "running", "succeeded", "failed", "dead"]
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")  # what counts against a tenant's queue depth
FINISHED: tuple[JobStatus, ...] = ("succeeded", "failed", "dead")
STATUSES: tuple[JobStatus, ...] = (*ACTIVE, *FINISHED)
Source = Literal["job", "cron"]


@dataclass(frozen=True)
class JobRequest:
    """What the guest of a job sees of the request that submitted it (POST to ``/``)."""

    body: bytes = b""
    content_type: str = ""
    query: tuple[tuple[str, str], ...] = ()

    def dump(self) -> bytes:
        return orjson.dumps({"body": base64.b64encode(self.body).decode(), "content_type": self.content_type,
                             "query": [list(pair) for pair in self.query]})

    @classmethod
    def load(cls, data: bytes) -> JobRequest:
        raw = orjson.loads(data)
        return cls(base64.b64decode(raw["body"]), str(raw["content_type"]),
                   tuple((str(key), str(value)) for key, value in raw["query"]))


@dataclass(frozen=True)
class Job:
    """One job. ``attempts`` counts the runs started (a run whose worker died counts too);
    ``run_after`` is when a queued job may start (later than ``created_at`` after a retryable failure)."""

    id: str
    tenant: str
    function: str
    source: Source
    status: JobStatus
    attempts: int
    max_attempts: int
    created_at: float
    run_after: float
    request: JobRequest
    idempotency_key: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    lease_until: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    fuel_used: int | None = None
    duration_ms: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        """What the API shows (never the request body: the submitter has it)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "function": self.function,
            "source": self.source,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "idempotency_key": self.idempotency_key,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "next_attempt_at": self.run_after if self.status == "queued" else None,
            "result": self.result,
            "error": self.error,
            "fuel_used": self.fuel_used,
            "duration_ms": self.duration_ms,
        }


def result_dict(result: InvokeResult) -> dict[str, Any]:
    """A call's result as the job keeps it: its JSON value, or its response (a body that is not UTF-8 in base64)."""
    if result.kind == "json":
        return {"kind": "json", "value": result.value}
    response: dict[str, Any] = {"kind": "response", "status": result.status,
                                "headers": [[name, value] for name, value in result.headers]}
    try:
        response["body"] = result.body.decode("utf-8")
    except UnicodeDecodeError:
        response["body_base64"] = base64.b64encode(result.body).decode()
    return response


@dataclass(frozen=True)
class Run:
    """One run of a function by a job or a cron tick, as the run history keeps it.

    ``code`` is "ok" or the error code the run ended with; ``status`` the HTTP status of
    the function's response (None for an error, 200 for a JSON value)."""

    tenant: str
    function: str
    source: Source
    job: str
    attempt: int
    version: str
    started_at: float
    duration_ms: float
    code: str
    status: int | None
    fuel_used: int

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "job": self.job, "attempt": self.attempt, "version": self.version,
                "started_at": self.started_at, "duration_ms": self.duration_ms, "code": self.code,
                "status": self.status, "fuel_used": self.fuel_used}
