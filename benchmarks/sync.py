"""Throughput of the activation engine on this machine.

    python benchmarks/sync.py [--rows 100000] [--postgres]

1. diff + file export (CSV and Parquet) of an N-row audience: first run (all rows added),
   a run where 10 % changed, and a no-change run (the diff alone);
2. webhook sync of the same N rows to a local HTTP server (another process on 127.0.0.1)
   with batching, then a 10 % change run.

Everything stays in a temporary folder; only 127.0.0.1 is contacted. With --postgres the
warehouse-side runs are repeated with a throw-away PostgreSQL database.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.resources.warehouse import WarehouseResource
from orchestration.syncs.engine import SyncResult
from orchestration.syncs.runner import run_syncs


def serve(port_queue: Any) -> None:
    """A receiver that parses each batch and accepts every row."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert body["records"]
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def build_audience(warehouse: WarehouseResource, rows: int, changed_every: int = 0) -> None:
    suffix = f" || case when id % {changed_every} = 0 then '-v2' else '' end" if (
        changed_every
    ) else ""
    with warehouse.connect() as connection:
        series = (
            f"range(1, {rows} + 1) as numbers(id)" if connection.dialect == "duckdb"
            else f"generate_series(1, {rows}) as numbers(id)"
        )
        connection.execute("create schema if not exists audiences")
        connection.execute("create schema if not exists marts")
        connection.execute("drop table if exists audiences.aud_bench")
        connection.execute(
            f"""
            create table audiences.aud_bench as
            select
                'c' || lpad(cast(id as varchar), 8, '0') as customer_id,
                'person' || cast(id as varchar) || '@example.com' as email,
                '+86138' || lpad(cast(id as varchar), 8, '0') as phone,
                'Name' || cast(id as varchar) as first_name,
                case id % 4 when 0 then 'Shanghai' when 1 then 'Beijing'
                    when 2 then 'Shenzhen' else 'Chengdu' end{suffix} as city,
                cast(id % 5 + 1 as integer) as rfm_score
            from {series}
            """
        )
        connection.execute(
            "create table if not exists marts.customer_consent (customer_id varchar, "
            "channel varchar, purpose varchar, consent_status varchar, "
            "is_contactable boolean, consent_updated_at timestamp)"
        )
        connection.execute(
            "create table if not exists marts.fct_events (event_id varchar, "
            "customer_id varchar, event_type varchar, channel varchar, source varchar, "
            "occurred_at timestamp, revenue decimal(18, 2), source_key varchar)"
        )


def timed(label: str, rows: int, run: Callable[[], list[SyncResult]]) -> None:
    started = time.perf_counter()
    (result,) = run()
    elapsed = time.perf_counter() - started
    sent = result.rows_sent
    rate = f"{sent / elapsed:>10,.0f} rows/s" if sent else f"{rows / elapsed:>10,.0f} rows/s diffed"
    print(f"  {label:<44} {elapsed:6.2f} s  sent {sent:>7,}  {rate}  "
          f"({result.batches_sent} batches, status {result.status})")


def bench_warehouse(warehouse: WarehouseResource, rows: int, folder: Path, url: str) -> None:
    destinations = folder / "destinations.yml"
    destinations.write_text(yaml.safe_dump({
        "destinations": {
            "bench_files": {"type": "file", "path": "exports", "formats": ["csv", "parquet"],
                            "pii": "allowed", "batch_size": 50000},
            "bench_webhook": {"type": "webhook", "url": url, "pii": "allowed",
                              "batch_size": 2000},
        },
        "policies": {"complaint_suppression_hours": 1},
    }))
    sync = {"mode": "mirror", "identifiers": ["customer_id", "email"],
            "fields": ["first_name", "city", "rfm_score"]}
    node = {
        "unique_id": "model.cdp.aud_bench", "resource_type": "model", "name": "aud_bench",
        "schema": "audiences", "alias": "aud_bench",
        "original_file_path": "models/audiences/aud_bench.sql",
        "config": {"meta": {"cdp_audience": {"syncs": [
            {"destination": "bench_files", **sync},
            {"destination": "bench_webhook", **sync},
        ]}}},
    }
    manifest = {"nodes": {node["unique_id"]: node}}

    def run(name: str) -> Callable[[], list[SyncResult]]:
        return lambda: run_syncs([f"bench__{name}"], manifest=manifest,
                                 destinations_file=destinations, warehouse=warehouse,
                                 project_dir=folder)

    build_audience(warehouse, rows)
    print(f"{warehouse.dialect}: diff + file export (CSV + Parquet, 50,000-row parts)")
    timed(f"first run, {rows:,} rows added", rows, run("bench_files"))
    timed("no change (diff only)", rows, run("bench_files"))
    build_audience(warehouse, rows, changed_every=10)
    timed("10 % changed", rows, run("bench_files"))

    build_audience(warehouse, rows)
    print(f"{warehouse.dialect}: webhook to a local HTTP server (2,000-row batches)")
    timed(f"first run, {rows:,} rows added", rows, run("bench_webhook"))
    build_audience(warehouse, rows, changed_every=10)
    timed("10 % changed", rows, run("bench_webhook"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true",
                        help="also run with a throw-away PostgreSQL warehouse")
    arguments = parser.parse_args()

    queue: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{queue.get(timeout=30)}/bench"
    try:
        with tempfile.TemporaryDirectory(prefix="cdp-bench-") as tmp:
            folder = Path(tmp)
            print(f"{arguments.rows:,}-row audience, {os.cpu_count()} cores")
            duck = WarehouseResource(target="dev", duckdb_path=str(folder / "bench.duckdb"))
            bench_warehouse(duck, arguments.rows, folder, url)
            if arguments.postgres:
                bench_postgres(arguments.rows, folder, url)
    finally:
        server.terminate()


def bench_postgres(rows: int, folder: Path, url: str) -> None:
    import psycopg

    name = f"cdp_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.conninfo.make_conninfo(
        host=os.environ.get("CDP_PG_HOST", "127.0.0.1"),
        port=os.environ.get("CDP_PG_PORT", "5432"),
        user=os.environ.get("CDP_PG_USER", "postgres"), dbname="postgres",
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'create database "{name}"')
    try:
        bench_warehouse(WarehouseResource(target="pg", pg_database=name), rows, folder, url)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
