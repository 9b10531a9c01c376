"""Fixtures for the activation-engine tests: real warehouses and real local servers.

- ``wh``: a throw-away warehouse, parametrised over DuckDB (a file in tmp_path) and
  PostgreSQL (a database created for the test session, schemas reset per test).
- ``http_server``: a scriptable HTTP receiver on 127.0.0.1 that de-duplicates on each
  record's idempotency key, like the destinations the engine is built for.
- ``pg_dsn`` / ``redis_url``: the local servers, skipped with a reason when they do not
  answer, unless ``CDP_REQUIRE_SERVICES=1`` (then the tests fail).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from orchestration.resources.warehouse import WarehouseConnection, WarehouseResource
from orchestration.syncs.engine import SyncResult
from orchestration.syncs.runner import run_syncs

PG_HOST = os.environ.get("CDP_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CDP_PG_PORT", "5432"))
PG_USER = os.environ.get("CDP_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("CDP_PG_PASSWORD", "")
REDIS_HOST = os.environ.get("CDP_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("CDP_REDIS_PORT", "6379"))
SERVICES_REQUIRED = os.environ.get("CDP_REQUIRE_SERVICES") == "1"


def service_unavailable(reason: str) -> None:
    """Skip (or fail when CDP_REQUIRE_SERVICES=1) a test whose server does not answer."""
    if SERVICES_REQUIRED:
        pytest.fail(f"{reason} (CDP_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def pg_conninfo(dbname: str = "postgres") -> str:
    return psycopg.conninfo.make_conninfo(
        host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD or None,
        dbname=dbname, connect_timeout=3,
    )


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Callable[[str], None]]:
    """Run a statement on the maintenance database (autocommit), or skip."""
    try:
        probe = psycopg.connect(pg_conninfo(), autocommit=True)
    except psycopg.OperationalError as error:
        service_unavailable(f"PostgreSQL at {PG_HOST}:{PG_PORT} does not answer: {error}")
    probe.close()

    def admin(statement: str) -> None:
        with psycopg.connect(pg_conninfo(), autocommit=True) as connection:
            connection.execute(statement)

    yield admin


@pytest.fixture(scope="session")
def pg_warehouse_db(pg_admin: Callable[[str], None]) -> Iterator[str]:
    name = f"cdp_sync_test_{uuid.uuid4().hex[:10]}"
    pg_admin(f'create database "{name}"')
    yield name
    pg_admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture()
def pg_destination_db(pg_admin: Callable[[str], None]) -> Iterator[str]:
    """A throw-away database standing for an external application database."""
    name = f"cdp_dest_test_{uuid.uuid4().hex[:10]}"
    pg_admin(f'create database "{name}"')
    yield name
    pg_admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture()
def redis_client() -> Iterator[Any]:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=3,
                         decode_responses=True)
    try:
        client.ping()
    except redis.RedisError as error:
        service_unavailable(f"Redis at {REDIS_HOST}:{REDIS_PORT} does not answer: {error}")
    yield client
    client.close()


# -- warehouse ----------------------------------------------------------------------------

class TestWarehouse:
    """A warehouse for one test with helpers to lay out the dbt-side tables."""

    __test__ = False

    def __init__(self, resource: WarehouseResource, tmp_path: Path) -> None:
        self.resource = resource
        self.tmp_path = tmp_path
        self.dialect = resource.dialect
        self._duckdb: WarehouseConnection | None = None

    def connect(self) -> WarehouseConnection:
        return self.resource.open()

    @contextlib.contextmanager
    def connection(self) -> Iterator[WarehouseConnection]:
        """DuckDB: one connection kept open for the test (in-process connections share the
        database, so the engine's own connect is cheap); PostgreSQL: a new connection."""
        if self.dialect == "duckdb":
            if self._duckdb is None:
                self._duckdb = self.connect()
            yield self._duckdb
            return
        connection = self.connect()
        try:
            yield connection
        finally:
            connection.close()

    def close(self) -> None:
        """Release the DuckDB file (before another process opens it)."""
        if self._duckdb is not None:
            self._duckdb.close()
            self._duckdb = None

    def sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.connection() as connection:
            if statement.lstrip().lower().startswith(("select", "with")):
                return connection.fetchall(statement, params)
            connection.execute(statement, params)
            return []

    def table(self, relation: str, columns: Mapping[str, str],
              rows: Sequence[Mapping[str, Any]]) -> None:
        """(Re)create ``schema.table`` with typed columns holding ``rows``."""
        schema = relation.split(".")[0]
        with self.connection() as connection:
            connection.execute(f"create schema if not exists {schema}")
            connection.execute(f"drop table if exists {relation}")
            names = list(columns)
            connection.load_temp_table(
                "_test_rows", list(columns.items()),
                [tuple(row.get(name) for name in names) for row in rows],
            )
            connection.execute(f"create table {relation} as select * from _test_rows")
            connection.execute("drop table _test_rows")

    def audience(self, name: str, rows: Sequence[Mapping[str, Any]],
                 columns: Mapping[str, str] | None = None) -> None:
        columns = columns or {
            "customer_id": "varchar", "email": "varchar", "phone": "varchar",
            "first_name": "varchar", "city": "varchar",
        }
        self.table(f"audiences.aud_{name}", columns, rows)

    def consent(self, rows: Sequence[tuple[str, str, bool]]) -> None:
        """``(customer_id, channel, is_contactable)`` rows for purpose marketing."""
        self.table(
            "marts.customer_consent",
            {"customer_id": "varchar", "channel": "varchar", "purpose": "varchar",
             "consent_status": "varchar", "is_contactable": "boolean",
             "consent_updated_at": "timestamp"},
            [
                {"customer_id": customer, "channel": channel, "purpose": "marketing",
                 "consent_status": "granted" if ok else "withdrawn", "is_contactable": ok}
                for customer, channel, ok in rows
            ],
        )

    def events(self, rows: Sequence[Mapping[str, Any]] = ()) -> None:
        self.table(
            "marts.fct_events",
            {"event_id": "varchar", "customer_id": "varchar", "event_type": "varchar",
             "channel": "varchar", "source": "varchar", "occurred_at": "timestamp",
             "revenue": "varchar", "source_key": "varchar"},
            [{"event_id": uuid.uuid4().hex, **row} for row in rows],
        )

    def state(self, sync_key: str) -> dict[str, str]:
        rows = self.sql(
            "select record_key, row_hash from cdp_sync.cdp_sync_state "
            "where sync_key = ? and not is_removed",
            (sync_key,),
        )
        return dict(rows)

    def runs(self, sync_key: str) -> list[dict[str, Any]]:
        with self.connection() as connection:
            columns = connection.relation_columns("cdp_sync", "cdp_sync_runs") or []
            rows = connection.fetchall(
                "select * from cdp_sync.cdp_sync_runs where sync_key = ? order by started_at",
                (sync_key,),
            )
        return [dict(zip(columns, row, strict=True)) for row in rows]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.pg)])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestWarehouse]:
    if request.param == "duckdb":
        resource = WarehouseResource(target="dev", duckdb_path=str(tmp_path / "cdp.duckdb"))
        warehouse = TestWarehouse(resource, tmp_path)
        yield warehouse
        warehouse.close()
        return
    yield postgres_warehouse(request.getfixturevalue("pg_warehouse_db"), tmp_path)


def postgres_warehouse(database: str, tmp_path: Path) -> TestWarehouse:
    """The session's PostgreSQL warehouse database, emptied of the schemas tests use."""
    resource = WarehouseResource(
        target="pg", pg_host=PG_HOST, pg_port=PG_PORT, pg_user=PG_USER,
        pg_password=PG_PASSWORD, pg_database=database,
    )
    warehouse = TestWarehouse(resource, tmp_path)
    warehouse.sql("drop schema if exists audiences cascade")
    warehouse.sql("drop schema if exists marts cascade")
    warehouse.sql("drop schema if exists cdp_sync cascade")
    warehouse.sql("drop schema if exists privacy cascade")
    return warehouse


@pytest.fixture()
def duck(tmp_path: Path) -> Iterator[TestWarehouse]:
    """DuckDB only, for destination-side tests where the warehouse engine does not matter."""
    resource = WarehouseResource(target="dev", duckdb_path=str(tmp_path / "cdp.duckdb"))
    warehouse = TestWarehouse(resource, tmp_path)
    yield warehouse
    warehouse.close()


# -- project config -----------------------------------------------------------------------

def audience_node(name: str, meta: Mapping[str, Any],
                  pii_columns: Sequence[str] = ()) -> dict[str, Any]:
    model = f"aud_{name}"
    return {
        "unique_id": f"model.cdp.{model}",
        "resource_type": "model",
        "name": model,
        "schema": "audiences",
        "alias": model,
        "package_name": "cdp",
        "original_file_path": f"models/audiences/{model}.sql",
        "path": f"audiences/{model}.sql",
        "fqn": ["cdp", "audiences", model],
        "config": {"meta": {"cdp_audience": dict(meta)}, "materialized": "table"},
        "meta": {"cdp_audience": dict(meta)},
        "columns": {column: {"name": column, "meta": {"pii": True}} for column in pii_columns},
        "tags": ["audiences"],
    }


def manifest_for(audiences: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    nodes = {f"model.cdp.aud_{name}": audience_node(name, meta)
             for name, meta in audiences.items()}
    return {"metadata": {"dbt_schema_version": "v12", "project_name": "cdp"},
            "nodes": nodes, "sources": {}}


def write_destinations(path: Path, destinations: Mapping[str, Any],
                       policies: Mapping[str, Any] | None = None) -> Path:
    document: dict[str, Any] = {"version": 1, "destinations": dict(destinations)}
    if policies is not None:
        document["policies"] = dict(policies)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


class Project:
    """Manifest + destinations.yml + warehouse for one test; ``run`` calls ``run_syncs``."""

    def __init__(self, warehouse: TestWarehouse, tmp_path: Path) -> None:
        self.wh = warehouse
        self.tmp_path = tmp_path
        self.audiences: dict[str, dict[str, Any]] = {}
        self.destinations: dict[str, Any] = {}
        self.policies: dict[str, Any] = {"complaint_suppression_hours": 1}
        self.destinations_file = tmp_path / "destinations.yml"

    def add_audience(self, name: str, *syncs: Mapping[str, Any], **meta: Any) -> None:
        self.audiences[name] = {**meta, "syncs": [dict(sync) for sync in syncs]}

    def write(self) -> Path:
        return write_destinations(self.destinations_file, self.destinations, self.policies)

    def manifest(self) -> dict[str, Any]:
        return manifest_for(self.audiences)

    def run(self, audiences: Sequence[str] | None = None, **kwargs: Any) -> list[SyncResult]:
        self.write()
        return run_syncs(
            audiences,
            manifest=self.manifest(),
            destinations_file=self.destinations_file,
            warehouse=self.wh.resource,
            project_dir=self.tmp_path,
            **kwargs,
        )

    def run_one(self, audience: str, **kwargs: Any) -> SyncResult:
        results = self.run([audience], **kwargs)
        assert len(results) == 1, results
        return results[0]


@pytest.fixture()
def project(wh: TestWarehouse, tmp_path: Path) -> Project:
    wh.events([])
    wh.consent([])
    return Project(wh, tmp_path)


@pytest.fixture()
def pg_project(pg_warehouse_db: str, tmp_path: Path) -> Project:
    warehouse = postgres_warehouse(pg_warehouse_db, tmp_path)
    warehouse.events([])
    warehouse.consent([])
    return Project(warehouse, tmp_path)


@pytest.fixture()
def duck_project(duck: TestWarehouse, tmp_path: Path) -> Project:
    duck.events([])
    duck.consent([])
    return Project(duck, tmp_path)


# -- HTTP receiver ------------------------------------------------------------------------

class Receiver:
    """What the test HTTP server saw and applied."""

    def __init__(self, secret: str | None, token: str | None) -> None:
        self.secret = secret
        self.token = token
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.script: collections.deque[dict[str, Any]] = collections.deque()
        self.applied: dict[str, dict[str, Any]] = {}   # idempotency key -> record
        self.deliveries: collections.Counter[str] = collections.Counter()
        self.duplicates = 0
        self.reject: Callable[[Mapping[str, Any]], str | None] = lambda record: None
        self.holding = threading.Event()   # set when a {"hold": True} request is held
        self.release = threading.Event()   # set to let held requests answer

    def then(self, *actions: Mapping[str, Any]) -> None:
        """Queue responses: {"status": 500}, {"status": 429, "headers": {...}},
        {"delay": 1.0}, {"body": "not json"}, {"apply": True} (apply despite an error),
        {"status": 422, "validate_only": True} (list row errors, apply nothing),
        {"hold": True} (apply, then answer only once ``release`` is set),
        {"drop": True} (hang up without an answer; with "apply": True after applying)."""
        self.script.extend(dict(action) for action in actions)

    @property
    def store(self) -> dict[str, dict[str, Any]]:
        """Current content per record key, applying upserts and deletes in arrival order."""
        content: dict[str, dict[str, Any]] = {}
        for record in self.applied.values():
            if record["operation"] == "delete" or record.get("_list_operation") == "remove":
                content.pop(record["record_key"], None)
            else:
                content[record["record_key"]] = record
        return content

    def applied_keys_per_record(self) -> collections.Counter[tuple[str, str]]:
        return collections.Counter(
            (record["record_key"], record["operation"]) for record in self.applied.values()
        )

    def handle(self, headers: Mapping[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            action = self.script.popleft() if self.script else {}
        signature_ok = None
        if self.secret:
            timestamp = headers.get("X-CDP-Timestamp", "")
            expected = "sha256=" + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
            ).hexdigest()
            signature_ok = hmac.compare_digest(expected, headers.get("X-CDP-Signature", ""))
        body = json.loads(raw)
        with self.lock:
            self.requests.append({"headers": dict(headers), "body": body, "at": time.monotonic(),
                                  "signature_ok": signature_ok, "action": action})
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, b'{"error": "bad token"}'
        if signature_ok is False:
            return 401, {}, b'{"error": "bad signature"}'
        status = action.get("status", 200)
        errors = []
        if action.get("validate_only"):
            errors = self._apply(body, store=False)
        elif action.get("apply", status < 300 and not action.get("drop")):
            errors = self._apply(body)
        if action.get("drop"):
            return 0, {}, b""
        if action.get("delay"):
            time.sleep(action["delay"])
        if action.get("hold"):
            self.holding.set()
            self.release.wait(timeout=60)
        if "body" in action:
            return status, action.get("headers", {}), action["body"].encode()
        payload = {"errors": errors} if errors else {}
        return status, action.get("headers", {}), json.dumps(payload).encode()

    def _apply(self, body: Mapping[str, Any], *, store: bool = True) -> list[dict[str, str]]:
        records = body.get("records") or [
            {**member, "record_key": member.get("hashed_email") or member.get("hashed_phone"),
             "operation": "delete" if body.get("operation") == "remove" else "upsert",
             "_list_operation": body.get("operation")}
            for member in body.get("members", [])
        ]
        errors = []
        with self.lock:
            for record in records:
                key = record["idempotency_key"]
                problem = self.reject(record)
                if problem:
                    errors.append({"idempotency_key": key, "error": problem})
                    continue
                if not store:
                    continue
                self.deliveries[key] += 1
                if key in self.applied:
                    self.duplicates += 1
                else:
                    self.applied[key] = record
        return errors


@pytest.fixture()
def http_server() -> Iterator[tuple[str, Receiver]]:
    receiver = Receiver(secret="test-signing-secret", token="test-token")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            status, headers, payload = receiver.handle(self.headers, raw)
            if status == 0:  # {"drop": True}: close the connection, no answer
                self.close_connection = True
                return
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield url, receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture()
def webhook_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("CDP_TEST_WEBHOOK_TOKEN", "test-token")
    monkeypatch.setenv("CDP_TEST_WEBHOOK_SECRET", "test-signing-secret")
    return {"auth_token_env": "CDP_TEST_WEBHOOK_TOKEN",
            "signing_secret_env": "CDP_TEST_WEBHOOK_SECRET"}


def customers(count: int, *, start: int = 1, city: str = "Shanghai") -> list[dict[str, Any]]:
    return [
        {"customer_id": f"c{number:05d}", "email": f"person{number}@example.com",
         "phone": f"+86138{number:08d}", "first_name": f"Name{number}", "city": city}
        for number in range(start, start + count)
    ]
