"""The registry: tenants, functions, versions and their encrypted secrets, and the change feed.

No HTTP here, and no engine either: every query is written once, over
``gateway.registry.database.Database`` (SQLite or PostgreSQL). Methods are
synchronous and short; the app calls them on worker threads.

A deploy is one transaction: the new version row, the switch of the function's
current version and its change-feed entry commit together or not at all. A
rollback, and a change of secrets, is a deploy too: a new version (the old
version's code, or the current one's with other secrets), never a pointer moved
back, so serials only grow and every cache orders versions the same way. It
first locks the tenant's row (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` holds the
whole file), so concurrent deploys of one function, from any process or host,
get distinct consecutive version numbers.

Every change (deploy, delete, tenant created, deleted or changed) appends a row to
``changes`` in the same transaction, as its last statement and under one lock, so
ids are handed out in commit order: a reader that has seen id ``n`` has seen every
change committed before it. Rows are pruned once they are both older than
``CHANGES_KEPT_SECONDS`` and not among the newest ``CHANGES_KEPT``.

Issued tokens are rows of ``tokens``: a revocation sets ``revoked_at`` and appends a
``token_revoked`` change, on which every worker reloads ``revoked_tokens()`` (the
unexpired revoked ids: the deny list is bounded by the tokens' expiry).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from gateway.errors import Conflict, NotFound
from gateway.names import check_name
from gateway.registry.database import Database, Duplicate, Row, Session
from gateway.registry.records import (
    Change,
    ChangeKind,
    DeploySpec,
    FunctionVersion,
    IssuedToken,
    Tenant,
    new_tenant_uid,
)
from gateway.registry.schema import migrate
from gateway.secret_box import SecretBox
from isolates.limits import Limits

CHANGES_LOCK = 0x7761_736D_0002  # advisory lock number ("wasm", 2): change ids in commit order
CHANGES_KEPT = 10_000
CHANGES_KEPT_SECONDS = 24 * 3600
TOKENS_KEPT_EXPIRED_SECONDS = 24 * 3600  # an expired token's row (and revocation) is kept this long
PRUNE_EVERY = 100  # changes: the pruning DELETE runs when a change's id is a multiple of this

CURRENT_VERSION = (
    "SELECT v.*, f.updated_at FROM functions f JOIN versions v ON v.id = f.current_version"
    " WHERE f.tenant = ? AND f.name = ?"
)


class Registry:
    """Tenants and functions at rest, over one ``Database``. Thread-safe; several processes may share it."""

    def __init__(self, database: Database, box: SecretBox) -> None:
        self.database = database
        self.box = box
        migrate(database)

    def close(self) -> None:
        self.database.close()

    def ping(self) -> None:
        self.database.read(lambda session: session.all("SELECT 1"))

    def check_secret_key(self) -> None:
        """``SecretBoxError`` unless the newest stored secrets decrypt with this registry's key."""
        row = self.database.read(lambda session: session.one("SELECT secrets FROM versions ORDER BY id DESC LIMIT 1"))
        if row is not None:
            self.box.open(bytes(row["secrets"]))

    # tenants

    def create_tenant(
        self, name: str, *, max_limits: Limits, rate_per_second: float, rate_burst: int, concurrency: int
    ) -> Tenant:
        check_name(name, "tenant name")
        tenant = Tenant(name, max_limits, rate_per_second, rate_burst, concurrency, time.time(), new_tenant_uid())

        def work(session: Session) -> None:
            session.execute(
                "INSERT INTO tenants (name, max_limits, rate_per_second, rate_burst, concurrency, created_at, uid)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, _json(max_limits.to_dict()), rate_per_second, rate_burst, concurrency, tenant.created_at,
                 tenant.uid),
            )
            self._record(session, "tenant_created", name)

        try:
            self.database.write(work)
        except Duplicate:
            raise Conflict(f"tenant {name!r} exists already") from None
        return tenant

    def get_tenant(self, name: str) -> Tenant:
        row = self.database.read(lambda session: session.one("SELECT * FROM tenants WHERE name = ?", (name,)))
        if row is None:
            raise NotFound(f"no tenant {name!r}")
        return _tenant(row)

    def list_tenants(self) -> list[Tenant]:
        rows = self.database.read(lambda session: session.all("SELECT * FROM tenants ORDER BY name"))
        return [_tenant(row) for row in rows]

    def update_tenant(
        self,
        name: str,
        *,
        max_limits: Limits | None = None,
        rate_per_second: float | None = None,
        rate_burst: int | None = None,
        concurrency: int | None = None,
    ) -> Tenant:
        """Change a tenant's limits (the fields given); the tenant as it is now."""

        def work(session: Session) -> Row:
            row = session.one("SELECT * FROM tenants WHERE name = ?" + self.database.for_update, (name,))
            if row is None:
                raise NotFound(f"no tenant {name!r}")
            old = _tenant(row)
            session.execute(
                "UPDATE tenants SET max_limits = ?, rate_per_second = ?, rate_burst = ?, concurrency = ?"
                " WHERE name = ?",
                (_json((max_limits or old.max_limits).to_dict()),
                 old.rate_per_second if rate_per_second is None else rate_per_second,
                 old.rate_burst if rate_burst is None else rate_burst,
                 old.concurrency if concurrency is None else concurrency, name),
            )
            updated = session.one("SELECT * FROM tenants WHERE name = ?", (name,))
            assert updated is not None
            self._record(session, "tenant_changed", name)
            return updated

        return _tenant(self.database.write(work))

    def delete_tenant(self, name: str) -> None:
        def work(session: Session) -> None:
            if session.execute("DELETE FROM tenants WHERE name = ?", (name,)) == 0:
                raise NotFound(f"no tenant {name!r}")
            session.execute("DELETE FROM functions WHERE tenant = ?", (name,))
            session.execute("DELETE FROM versions WHERE tenant = ?", (name,))
            for table in ("jobs", "schedules", "runs"):  # its async jobs, cron schedules, run history
                session.execute(f"DELETE FROM {table} WHERE tenant = ?", (name,))
            self._record(session, "tenant_deleted", name)

        self.database.write(work)

    # functions

    def deploy(self, tenant: str, name: str, spec: DeploySpec) -> FunctionVersion:
        """Store ``spec`` as the function's next version and make it current, atomically."""
        check_name(name, "function name")

        def work(session: Session) -> Row:
            self._lock_tenant(session, tenant)
            secrets = spec.secrets
            if secrets is None:
                previous = session.one(
                    "SELECT v.secrets FROM functions f JOIN versions v ON v.id = f.current_version"
                    " WHERE f.tenant = ? AND f.name = ?",
                    (tenant, name),
                )
                secrets = self.box.open(bytes(previous["secrets"])) if previous else {}
            return self._add_version(session, tenant, name, spec, secrets)

        return self._version(self.database.write(work))

    def version(self, tenant: str, name: str, number: int | None = None) -> FunctionVersion:
        """The function's version ``number``; without one, the version before the current one
        (what a rollback goes back to). ``NotFound`` when there is no such version."""

        def work(session: Session) -> Row:
            current = session.one(CURRENT_VERSION, (tenant, name))
            if current is None:
                raise NotFound(f"no function {name!r} in tenant {tenant!r}")
            wanted = int(current["number"]) - 1 if number is None else number
            if wanted < 1:
                raise NotFound(f"function {name!r} has no version before v{current['number']}")
            row = session.one(
                "SELECT v.*, f.updated_at FROM functions f JOIN versions v ON v.tenant = f.tenant"
                " AND v.function = f.name WHERE f.tenant = ? AND f.name = ? AND v.number = ?",
                (tenant, name, wanted),
            )
            if row is None:
                raise NotFound(f"function {name!r} has no version v{wanted} (its newest is v{current['number']})")
            return row

        return self._version(self.database.read(work))

    def rollback(self, tenant: str, name: str, target_serial: int) -> FunctionVersion:
        """Make the version with ``target_serial`` current again, as the function's next version
        (its code and configuration, the secrets the function has now; noted "rollback to vN").

        Atomic like a deploy, and a deploy on the change feed: serials only grow, so every
        worker's cache takes it like any new version. ``NotFound`` when that version is not
        one of this function's (deleted meanwhile, or another function's)."""

        def work(session: Session) -> Row:
            self._lock_tenant(session, tenant)
            target = session.one("SELECT v.*, 0 AS updated_at FROM versions v WHERE v.id = ? AND v.tenant = ?"
                                 " AND v.function = ?", (target_serial, tenant, name))
            current = session.one(CURRENT_VERSION, (tenant, name))
            if target is None or current is None:
                raise NotFound(f"function {name!r} has no such version to roll back to")
            version = self._version(target)
            spec = version.spec(note=f"rollback to {version.version_id}")
            return self._add_version(session, tenant, name, spec, self.box.open(bytes(current["secrets"])))

        return self._version(self.database.write(work))

    def change_secrets(self, tenant: str, name: str, base_serial: int, *, put: dict[str, str] | None = None,
                       delete: tuple[str, ...] = ()) -> FunctionVersion:
        """A new version of the function with secrets set (``put``) or removed (``delete``),
        everything else as in its current version, which must still be ``base_serial``
        (``Conflict`` otherwise: the caller prepared that version's code). Atomic like a deploy."""

        def work(session: Session) -> Row:
            self._lock_tenant(session, tenant)
            current = session.one(CURRENT_VERSION, (tenant, name))
            if current is None:
                raise NotFound(f"no function {name!r} in tenant {tenant!r}")
            if int(current["id"]) != base_serial:
                raise Conflict(f"function {name!r} changed meanwhile (now v{current['number']}): try again")
            secrets = self.box.open(bytes(current["secrets"]))
            missing = [secret for secret in delete if secret not in secrets]
            if missing:
                raise NotFound(f"function {name!r} has no secret {missing[0]!r}")
            for secret in delete:
                del secrets[secret]
            secrets.update(put or {})
            changed = [*(put or {}), *delete]
            what = "deleted" if delete and not put else "set"
            note = f"secret{'s' if len(changed) > 1 else ''} {', '.join(changed)} {what}"
            return self._add_version(session, tenant, name, self._version(current).spec(note=note), secrets)

        return self._version(self.database.write(work))

    def _lock_tenant(self, session: Session, tenant: str) -> None:
        """Hold the tenant's row until the commit (PostgreSQL): one writer of its functions at a time."""
        if session.one("SELECT name FROM tenants WHERE name = ?" + self.database.for_update, (tenant,)) is None:
            raise NotFound(f"no tenant {tenant!r}")

    def _add_version(self, session: Session, tenant: str, name: str, spec: DeploySpec,
                     secrets: dict[str, str]) -> Row:
        """Insert the function's next version, make it current, and record the deploy; the new current row."""
        now = time.time()
        last = session.one("SELECT MAX(number) AS number FROM versions WHERE tenant = ? AND function = ?",
                           (tenant, name))
        number = int(last["number"] or 0) + 1 if last else 1
        inserted = session.one(
            "INSERT INTO versions (tenant, function, number, language, code, limits, allowed_hosts, auth, env,"
            " secret_names, secrets, created_at, filename, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (tenant, name, number, spec.language, spec.code, _json(spec.limits.to_dict()),
             _json(list(spec.allowed_hosts)), spec.auth, _json(spec.env), _json(sorted(secrets)),
             self.box.seal(secrets), now, spec.filename, spec.note),
        )
        assert inserted is not None
        self._make_current(session, tenant, name, int(inserted["id"]), now)
        row = session.one(CURRENT_VERSION, (tenant, name))
        assert row is not None
        self._record(session, "deploy", tenant, name, number, int(inserted["id"]))
        return row

    def _make_current(self, session: Session, tenant: str, name: str, serial: int, now: float) -> None:
        session.execute(
            "INSERT INTO functions (tenant, name, current_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant, name) DO UPDATE SET current_version = excluded.current_version,"
            " updated_at = excluded.updated_at",
            (tenant, name, serial, now, now),
        )

    def current(self, tenant: str, name: str) -> FunctionVersion:
        """The function's current version; ``NotFound`` if there is none."""
        row = self.database.read(lambda session: session.one(CURRENT_VERSION, (tenant, name)))
        if row is None:
            raise NotFound(f"no function {name!r} in tenant {tenant!r}")
        return self._version(row)

    def list_functions(self, tenant: str) -> list[dict[str, Any]]:
        rows = self.database.read(lambda session: session.all(
            "SELECT f.name, v.number, f.created_at, f.updated_at, v.language, v.auth"
            " FROM functions f JOIN versions v ON v.id = f.current_version WHERE f.tenant = ? ORDER BY f.name",
            (tenant,),
        ))
        return [
            {
                "name": row["name"],
                "version": f"v{row['number']}",
                "language": row["language"],
                "auth": row["auth"],
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
            for row in rows
        ]

    def list_versions(self, tenant: str, name: str) -> list[dict[str, Any]]:
        rows = self.database.read(lambda session: session.all(
            "SELECT v.number, v.language, v.created_at, v.note, v.id = f.current_version AS is_current"
            " FROM functions f JOIN versions v ON v.tenant = f.tenant AND v.function = f.name"
            " WHERE f.tenant = ? AND f.name = ? ORDER BY v.number",
            (tenant, name),
        ))
        if not rows:
            raise NotFound(f"no function {name!r} in tenant {tenant!r}")
        return [
            {"version": f"v{row['number']}", "language": row["language"], "created_at": row["created_at"],
             "current": bool(row["is_current"]), "note": row["note"]}
            for row in rows
        ]

    def delete_function(self, tenant: str, name: str) -> None:
        def work(session: Session) -> None:
            if session.execute("DELETE FROM functions WHERE tenant = ? AND name = ?", (tenant, name)) == 0:
                raise NotFound(f"no function {name!r} in tenant {tenant!r}")
            session.execute("DELETE FROM versions WHERE tenant = ? AND function = ?", (tenant, name))
            for table in ("schedules", "runs"):  # its cron schedule and run history (its queued jobs fail: not_found)
                session.execute(f"DELETE FROM {table} WHERE tenant = ? AND function = ?", (tenant, name))
            self._record(session, "delete", tenant, name)

        self.database.write(work)

    def _version(self, row: Row) -> FunctionVersion:
        return FunctionVersion(
            tenant=row["tenant"],
            function=row["function"],
            version=int(row["number"]),
            language=row["language"],
            code=bytes(row["code"]),
            limits=Limits.from_dict(orjson.loads(row["limits"])),
            allowed_hosts=tuple(orjson.loads(row["allowed_hosts"])),
            auth=row["auth"],
            env=orjson.loads(row["env"]),
            secret_names=tuple(orjson.loads(row["secret_names"])),
            secrets=self.box.open(bytes(row["secrets"])),
            created_at=float(row["created_at"]),
            updated_at=float(row["updated_at"]),
            serial=int(row["id"]),
            filename=row["filename"],
            note=row["note"],
        )

    # issued tokens and revocations (the control plane records and revokes; every worker reads)

    def record_token(self, token: IssuedToken) -> None:
        """Remember an issued token (and forget those expired for a day: they fail anyway)."""

        def work(session: Session) -> None:
            session.execute(
                "INSERT INTO tokens (jti, tenant, tenant_uid, scopes, issued_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (token.jti, token.tenant, token.tenant_uid, ",".join(token.scopes), token.issued_at,
                 token.expires_at),
            )
            session.execute("DELETE FROM tokens WHERE expires_at < ?", (time.time() - TOKENS_KEPT_EXPIRED_SECONDS,))

        self.database.write(work)

    def issued_token(self, jti: str) -> IssuedToken:
        row = self.database.read(lambda session: session.one("SELECT * FROM tokens WHERE jti = ?", (jti,)))
        if row is None:
            raise NotFound(f"no token {jti!r} (never issued, or expired)")
        return _issued_token(row)

    def revoke_token(self, jti: str) -> IssuedToken:
        """Revoke a token (again: a no-op); on the change feed, so every worker refuses it."""

        def work(session: Session) -> Row:
            row = session.one("SELECT * FROM tokens WHERE jti = ?" + self.database.for_update, (jti,))
            if row is None:
                raise NotFound(f"no token {jti!r} (never issued, or expired)")
            if row["revoked_at"] is None:
                session.execute("UPDATE tokens SET revoked_at = ? WHERE jti = ?", (time.time(), jti))
                self._record(session, "token_revoked", row["tenant"])
            updated = session.one("SELECT * FROM tokens WHERE jti = ?", (jti,))
            assert updated is not None
            return updated

        return _issued_token(self.database.write(work))

    def revoked_tokens(self, now: float | None = None) -> list[str]:
        """The jti of every revoked token that has not expired yet (the deny list, expiry-bounded)."""
        now = time.time() if now is None else now
        rows = self.database.read(lambda session: session.all(
            "SELECT jti FROM tokens WHERE revoked_at IS NOT NULL AND expires_at > ?", (now,)))
        return [row["jti"] for row in rows]

    # the change feed

    def changes_since(self, after_id: int, limit: int) -> list[Change]:
        """Up to ``limit`` changes with an id above ``after_id``, oldest first.

        A reader whose ``after_id`` is below ``changes_pruned_through()`` may have missed
        changes (they were pruned): it must treat everything it caches as stale."""
        rows = self.database.read(lambda session: session.all(
            "SELECT id, tenant, function, kind, version, serial, at FROM changes WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ))
        return [Change(int(row["id"]), row["tenant"], row["function"], row["kind"], float(row["at"]),
                       _int_or_none(row["version"]), _int_or_none(row["serial"])) for row in rows]

    def latest_change_id(self) -> int:
        """The id of the newest change (0 if there is none): where a new reader starts."""
        row = self.database.read(lambda session: session.one("SELECT MAX(id) AS id FROM changes"))
        return int(row["id"] or 0) if row else 0

    def changes_pruned_through(self) -> int:
        """Changes up to this id may have been pruned (0 while none were)."""
        row = self.database.read(lambda session: session.one("SELECT MIN(id) AS id FROM changes"))
        return max(0, int(row["id"]) - 1) if row and row["id"] is not None else self.latest_change_id()

    def _record(self, session: Session, kind: ChangeKind, tenant: str, function: str | None = None,
                version: int | None = None, serial: int | None = None) -> None:
        """Append to the change feed; the last statement of every writing transaction."""
        self.database.serialize(session, CHANGES_LOCK)
        now = time.time()
        row = session.one("INSERT INTO changes (tenant, function, kind, version, serial, at)"
                          " VALUES (?, ?, ?, ?, ?, ?) RETURNING id", (tenant, function, kind, version, serial, now))
        assert row is not None
        change_id = int(row["id"])
        if change_id % PRUNE_EVERY == 0:
            session.execute("DELETE FROM changes WHERE id <= ? AND at < ?",
                            (change_id - CHANGES_KEPT, now - CHANGES_KEPT_SECONDS))


def _issued_token(row: Row) -> IssuedToken:
    return IssuedToken(jti=row["jti"], tenant=row["tenant"], tenant_uid=row["tenant_uid"],
                       scopes=tuple(scope for scope in row["scopes"].split(",") if scope),
                       issued_at=float(row["issued_at"]), expires_at=float(row["expires_at"]),
                       revoked_at=None if row["revoked_at"] is None else float(row["revoked_at"]))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _tenant(row: Row) -> Tenant:
    return Tenant(
        name=row["name"],
        max_limits=Limits.from_dict(orjson.loads(row["max_limits"])),
        rate_per_second=float(row["rate_per_second"]),
        rate_burst=int(row["rate_burst"]),
        concurrency=int(row["concurrency"]),
        created_at=float(row["created_at"]),
        uid=row["uid"] or "",
    )
