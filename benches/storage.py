"""Storage cost per operation (µs): ``python -m benches.storage [--database-url URL]``.

Issue 17's target: get/set cost per call on SQLite and PostgreSQL. Two views:

- host: ``FunctionStorage.perform`` alone (the JSON, the query, the commit), medians over
  ``--operations`` operations of each kind, on a document and KV values of 1 KB;
- guest: a deployed JS function doing ``ctx.storage.get`` then ``set`` per call (a fresh
  isolate each call, as on the request path), against the same function answering
  without storage: the difference is what storage adds to a call.

SQLite is a fresh file in a temp dir (WAL, synchronous=NORMAL, as the gateway runs it).
PostgreSQL is ``--database-url`` (a database of its own is created in it), or a private
server this bench starts when the machine has PostgreSQL 15 (the tests' way), else skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
from cryptography.fernet import Fernet

from gateway.registry import Database, DeploySpec, Registry, SQLiteDatabase
from gateway.secret_box import SecretBox
from gateway.storage import RegistryStorage
from host_api.request import guest_request
from host_api.storage import FunctionStorage, StorageScope
from isolates import CallSpec, Limits, prepare, run

DOCUMENT = {"items": [{"id": i, "name": f"item-{i}", "tags": ["a", "b"]} for i in range(24)]}  # ~1 KB
VALUE = "v" * 1024
COUNTER = """module.exports = function (ctx, cb) {
  ctx.storage.get(function (error, data) {
    data = data || { count: 0 }; data.count += 1;
    ctx.storage.set(data, function (error) { cb(error, data); });
  });
};"""
PLAIN = "module.exports = function (ctx, cb) { cb(null, { count: 1 }); };"


def _free(_fuel: int) -> None:
    pass


def median_us(work: Callable[[], object], count: int) -> float:
    """The median of ``count`` timed runs of ``work``, after ``count // 10`` untimed ones (connections
    opened, caches warm)."""
    for _ in range(count // 10):
        work()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1e6, 1)


def measure(database: Database, operations: int, calls: int) -> dict[str, float]:
    registry = Registry(database, SecretBox(Fernet.generate_key().decode()))
    tenant = f"bench{uuid.uuid4().hex[:8]}"
    registry.create_tenant(tenant, max_limits=Limits(), rate_per_second=1.0, rate_burst=1, concurrency=1)
    for name in ("host", "guest"):
        registry.deploy(tenant, name, DeploySpec(language="javascript", code=b"x", limits=Limits()))
    backend = RegistryStorage(database)
    storage = FunctionStorage(backend, StorageScope(tenant, "host"))
    document, value = orjson.dumps({"op": "storage.set", "data": DOCUMENT}), {"op": "kv.put", "value": VALUE}
    storage.perform(document, _free)
    keys = iter(range(10**9))
    rows = {
        "storage.get": median_us(lambda: storage.perform(b'{"op":"storage.get"}', _free), operations),
        "storage.set": median_us(lambda: storage.perform(document, _free), operations),
        "kv.put": median_us(lambda: storage.perform(orjson.dumps({**value, "key": f"k{next(keys) % 100}"}), _free),
                            operations),
        "kv.get": median_us(lambda: storage.perform(b'{"op":"kv.get","key":"k7"}', _free), operations),
    }
    spec = CallSpec(storage=FunctionStorage(backend, StorageScope(tenant, "guest")))
    counter, plain = (prepare("javascript", source, Limits(), snapshot=True) for source in (COUNTER, PLAIN))
    rows["call: get+set"] = median_us(lambda: run(counter, guest_request(), spec), calls)
    rows["call: no storage"] = median_us(lambda: run(plain, guest_request(), spec), calls)
    registry.close()
    return rows


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[Database | None]:
    from gateway.registry.postgres import PostgresDatabase

    if url:
        database = PostgresDatabase(url)
        yield database
        return
    try:
        from tests.gateway.support import PostgresServer  # the tests' private server, when it can run here
    except ImportError:
        yield None
        return
    if PostgresServer.missing():
        yield None
        return
    server = PostgresServer().start()
    try:
        yield PostgresDatabase(server.create_database("bench"))
    finally:
        server.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL to measure (default: a private one, if possible)")
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        results["sqlite"] = measure(SQLiteDatabase(Path(directory) / "registry.sqlite3"), args.operations, args.calls)
    with postgres(args.database_url) as database:
        if database is not None:
            results["postgresql"] = measure(database, args.operations, args.calls)
    engines = list(results)
    print(f"{'median µs':<20}" + "".join(f"{engine:>12}" for engine in engines))
    for row in results[engines[0]]:
        print(f"{row:<20}" + "".join(f"{results[engine][row]:>12}" for engine in engines))


if __name__ == "__main__":
    main()
