"""What the registry stores and hands out: tenants, deploy specs, function versions, changes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from isolates.limits import Limits

AUTH_MODES = ("public", "token")

ChangeKind = Literal["deploy", "delete", "tenant_created", "tenant_deleted", "tenant_changed", "token_revoked"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("deploy", "delete", "tenant_created", "tenant_deleted", "tenant_changed",
                                        "token_revoked")


@dataclass(frozen=True)
class Tenant:
    name: str
    max_limits: Limits
    rate_per_second: float
    rate_burst: int
    concurrency: int
    created_at: float
    uid: str = ""  # random, never reused: what a token is bound to (gateway/identity/tokens.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_limits": self.max_limits.to_dict(),
            "rate_limit": {"per_second": self.rate_per_second, "burst": self.rate_burst},
            "concurrency": self.concurrency,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class IssuedToken:
    """A tenant token the control plane issued (its claims' ``jti``), and whether it was revoked."""

    jti: str
    tenant: str
    tenant_uid: str
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float
    revoked_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"jti": self.jti, "tenant": self.tenant, "scopes": list(self.scopes), "issued_at": self.issued_at,
                "expires_at": self.expires_at, "revoked_at": self.revoked_at}


@dataclass(frozen=True)
class DeploySpec:
    """What a deploy stores. ``secrets=None`` keeps the current version's secrets.

    filename
        the user's name for the source file (``worker.js``, ``hello.c``): stack traces and
        compile errors point into it; empty: the language's default (``index.js``, ``main.c``).
    note
        how the version came about when it was not a plain deploy ("rollback to v2").
    """

    language: str
    code: bytes
    limits: Limits
    allowed_hosts: tuple[str, ...] = ()
    auth: str = "public"
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] | None = field(default=None, repr=False)
    filename: str = ""
    note: str = ""


@dataclass(frozen=True)
class FunctionVersion:
    """One deployed version, secrets decrypted (never serialise ``secrets``: see ``metadata``).

    version
        the function's own version number: 1 for its first deploy, then 2, 3, ...
        (a function deleted and deployed again starts at 1 again). Shown as ``v<n>``.
    serial
        the registry's id of this version row: grows with every deploy of any function
        and is never reused, not even after a delete and a new deploy of the same name.
        Order two versions of one (tenant, function) by ``serial``, never by ``version``.
    filename, note
        as in ``DeploySpec``.
    """

    tenant: str
    function: str
    version: int
    language: str
    code: bytes = field(repr=False)
    limits: Limits
    allowed_hosts: tuple[str, ...]
    auth: str
    env: dict[str, str]
    secret_names: tuple[str, ...]
    secrets: dict[str, str] = field(repr=False)
    created_at: float
    updated_at: float = 0.0
    serial: int = 0
    filename: str = ""
    note: str = ""

    @property
    def version_id(self) -> str:
        return f"v{self.version}"

    def metadata(self) -> dict[str, Any]:
        """What the API shows: everything but the code and the secret values."""
        return {
            "tenant": self.tenant,
            "name": self.function,
            "version": self.version_id,
            "language": self.language,
            "limits": self.limits.to_dict(),
            "allowed_hosts": list(self.allowed_hosts),
            "auth": self.auth,
            "env": dict(self.env),
            "secrets": list(self.secret_names),
            "code_bytes": len(self.code),
            "filename": self.filename,
            "note": self.note,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def spec(self, *, note: str = "") -> DeploySpec:
        """This version as a deploy of its own (a rollback's new version), secrets kept as they are now."""
        return DeploySpec(language=self.language, code=self.code, limits=self.limits,
                          allowed_hosts=self.allowed_hosts, auth=self.auth, env=dict(self.env),
                          filename=self.filename, note=note)


@dataclass(frozen=True)
class Change:
    """One entry of the change feed, written in the same transaction as the change itself.

    id
        grows with every change, in commit order (a reader that has seen ``id`` has seen
        every change committed before it); ids may skip numbers.
    function
        the function deployed or deleted; None for the tenant kinds.
    version, serial
        the new version's number and ``FunctionVersion.serial`` (``deploy`` only): a
        reader that caches this function at ``serial`` or later needs to drop nothing.
    at
        when it was committed (Unix seconds).
    """

    id: int
    tenant: str
    function: str | None
    kind: ChangeKind
    at: float
    version: int | None = None
    serial: int | None = None


def new_tenant_uid() -> str:
    return secrets.token_hex(12)
