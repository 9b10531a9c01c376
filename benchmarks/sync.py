"""Throughput of the activation engine on this machine.

    python benchmarks/sync.py [--rows 100000] [--postgres]

1. diff + file export (CSV and Parquet) of an N-row audience: first run (all rows added),
   a run where 10 % changed, and a no-change run (the diff alone);
2. webhook sync of the same N rows to a local HTTP server (another process on 127.0.0.1)
   with batching, then a 10 % change run.

Everything stays in a temporary folder; only 127.0.0.1 is contacted. With --postgres the
warehouse-side runs are repeated with a throw-away PostgreSQL database. The receiver and
the sync configuration live in ``orchestration.bench.sync`` (shared with ``cdp bench``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.bench.sync import (
    FILE_BATCH_ROWS,
    FILES,
    WEBHOOK,
    WEBHOOK_BATCH_ROWS,
    TimedSync,
    audience_manifest,
    receiver,
    timed_sync,
    write_destinations,
)
from orchestration.bench.workspace import Scratch
from orchestration.resources.warehouse import WarehouseResource

AUDIENCE_NODE = {
    "unique_id": "model.cdp.aud_bench", "resource_type": "model", "name": "aud_bench",
    "schema": "audiences", "alias": "aud_bench",
    "original_file_path": "models/audiences/aud_bench.sql",
}


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


def timed(label: str, rows: int, run: Callable[[], TimedSync]) -> None:
    timed_run = run()
    result, elapsed = timed_run.result, timed_run.seconds
    sent = result.rows_sent
    rate = f"{sent / elapsed:>10,.0f} rows/s" if sent else f"{rows / elapsed:>10,.0f} rows/s diffed"
    print(f"  {label:<44} {elapsed:6.2f} s  sent {sent:>7,}  {rate}  "
          f"({result.batches_sent} batches, status {result.status})")


def bench_warehouse(warehouse: WarehouseResource, rows: int, folder: Path, url: str) -> None:
    destinations = write_destinations(folder, url)
    manifest = audience_manifest(AUDIENCE_NODE, ["customer_id", "email"],
                                 ["first_name", "city", "rfm_score"])

    def run(destination: str) -> Callable[[], TimedSync]:
        return lambda: timed_sync(manifest, destination, destinations, warehouse)

    build_audience(warehouse, rows)
    print(f"{warehouse.dialect}: diff + file export (CSV + Parquet, "
          f"{FILE_BATCH_ROWS:,}-row parts)")
    timed(f"first run, {rows:,} rows added", rows, run(FILES))
    timed("no change (diff only)", rows, run(FILES))
    build_audience(warehouse, rows, changed_every=10)
    timed("10 % changed", rows, run(FILES))

    build_audience(warehouse, rows)
    print(f"{warehouse.dialect}: webhook to a local HTTP server "
          f"({WEBHOOK_BATCH_ROWS:,}-row batches)")
    timed(f"first run, {rows:,} rows added", rows, run(WEBHOOK))
    build_audience(warehouse, rows, changed_every=10)
    timed("10 % changed", rows, run(WEBHOOK))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true",
                        help="also run with a throw-away PostgreSQL warehouse")
    arguments = parser.parse_args()

    with receiver() as url, tempfile.TemporaryDirectory(prefix="cdp-bench-") as tmp:
        folder = Path(tmp)
        print(f"{arguments.rows:,}-row audience, {os.cpu_count()} cores")
        duck = WarehouseResource(target="dev", duckdb_path=str(folder / "bench.duckdb"))
        bench_warehouse(duck, arguments.rows, folder, url)
        if arguments.postgres:
            bench_postgres(arguments.rows, folder, url)


def bench_postgres(rows: int, folder: Path, url: str) -> None:
    scratch = Scratch.open("pg", folder / "pg")
    try:
        bench_warehouse(scratch.resource(), rows, folder, url)
    finally:
        scratch.drop()


if __name__ == "__main__":
    main()
