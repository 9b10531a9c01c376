"""The ``cdp`` command: generate demo data into the warehouse, run the whole demo.

cdp generate --people 10000 --seed 42 [--target dev|pg|spark] [--append-batch K]
cdp demo [--people 300] [--seed 42] [--target dev|pg|spark]
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from orchestration.generate import (
    RAW_COLUMNS,
    TRUTH_COLUMNS,
    ensure_database,
    iter_tables,
    load_duckdb,
    load_postgres,
    load_spark,
    spark_session,
)
from orchestration.generate.loading import prefetched
from orchestration.generate.people import MAX_PEOPLE
from orchestration.warehouse import TARGET_ENGINES, Warehouse, warehouse_for

SUMMARY_SCHEMAS = ("raw", "staging", "identity", "privacy", "marts", "audiences")
SchemaCounts = dict[str, tuple[int, int | None]]  # schema -> (relations, rows or None)
console = Console()


@dataclass
class StepResult:
    name: str
    seconds: float
    ok: bool = True
    detail: str = ""


# Steps `cdp demo` runs after a successful `dbt build`, in order. Each gets the warehouse
# and returns a one-line detail for the summary (raise to fail the demo). Add later steps
# to post_build_steps().
PostBuildStep = Callable[[Warehouse], str]


def post_build_steps(engine: str = "duckdb") -> list[tuple[str, PostBuildStep]]:
    """The steps after ``dbt build``: the identity summary, then the audiences' syncs
    (activation; the sync engine reads DuckDB or PostgreSQL, so not after a Spark build)."""
    from orchestration.syncs.runner import demo_step  # Dagster-heavy: import when used

    steps: list[tuple[str, PostBuildStep]] = [("identity", identity_step)]
    if engine != "spark":
        steps.append(("syncs", demo_step))
    return steps


def identity_step(warehouse: Warehouse) -> str:
    """Post-build step: print identity.identity_summary, return its headline figures."""
    from orchestration.resources.warehouse import WarehouseResource

    query = (
        "select metric, identifier_type, metric_value from identity.identity_summary"
        " order by metric, identifier_type"
    )
    if warehouse.engine == "spark":
        rows = _spark_rows(warehouse, query)
    else:
        with WarehouseResource.for_warehouse(warehouse).connect() as connection:
            rows = connection.fetchall(query)
    table = Table(title="Identity")
    for column in ("metric", "identifier type", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for metric, identifier_type, value in rows:
        table.add_row(metric, identifier_type, f"{value:,}")
    console.print(table)
    figures = {(metric, identifier_type): value for metric, identifier_type, value in rows}
    excluded = sum(v for (m, _), v in figures.items() if m.startswith("excluded_"))
    return (f"{figures.get(('customers', 'all'), 0):,} customers, largest "
            f"{figures.get(('largest_cluster_identifiers', 'all'), 0)} identifiers, "
            f"{excluded} identifiers excluded")


target_option = click.option(
    "--target",
    type=click.Choice(sorted(TARGET_ENGINES)),
    default=None,
    help="dbt target to load into  [default: env DBT_TARGET or dev]",
)


@click.group()
def main() -> None:
    """Warehouse-native CDP: demo data, dbt and activation from one command."""


@main.command()
@click.option(
    "--people", type=click.IntRange(1, MAX_PEOPLE), default=300, show_default=True
)
@click.option("--seed", type=int, default=42, show_default=True)
@target_option
@click.option(
    "--append-batch",
    type=click.IntRange(min=1),
    default=None,
    help="Append the K-th daily delta (~1% new rows) instead of replacing everything.",
)
def generate(
    people: int, seed: int, target: str | None, append_batch: int | None
) -> None:
    """Generate deterministic demo data and load it into schemas raw and truth."""
    warehouse = warehouse_for(target)
    started = time.perf_counter()
    rows = load_demo_data(warehouse, people, seed, batch=append_batch or 0)
    _print_loaded(rows, warehouse, time.perf_counter() - started)


@main.command()
@click.option(
    "--people", type=click.IntRange(1, MAX_PEOPLE), default=300, show_default=True
)
@click.option("--seed", type=int, default=42, show_default=True)
@target_option
def demo(people: int, seed: int, target: str | None) -> None:
    """Generate demo data, run dbt build, run the post-build steps, print a summary."""
    warehouse = warehouse_for(target)
    console.print(f"[bold]cdp demo[/] → {warehouse.describe()}")
    steps: list[StepResult] = []
    with _step(steps, "generate + load") as step:
        rows = load_demo_data(warehouse, people, seed)
        step.detail = f"{people:,} people, {sum(rows.values()):,} rows"
    if steps[-1].ok:
        with _step(steps, "dbt build") as step:
            step.ok = run_dbt_build(warehouse)
            step.detail = "ok" if step.ok else "failed (see the dbt log above)"
    if steps[-1].ok:
        for name, run in post_build_steps(warehouse.engine):
            with _step(steps, name) as step:
                step.detail = run(warehouse)
            if not steps[-1].ok:
                break
    _print_summary(steps, count_rows_by_schema(warehouse))
    if not all(step.ok for step in steps):
        raise click.exceptions.Exit(1)


def load_demo_data(
    warehouse: Warehouse, people: int, seed: int, batch: int = 0
) -> dict[str, int]:
    """Generate one batch and load it (batch 0 replaces, later batches append)."""
    mode = "append" if batch else "replace"
    tables = prefetched(iter_tables(people, seed, batch))
    total = len(RAW_COLUMNS) + len(TRUTH_COLUMNS)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(
            f"generating {people:,} people (batch {batch})", total=total
        )

        def on_loaded(name: str, rows: int) -> None:
            progress.update(
                task, advance=1, description=f"loaded {name} ({rows:,} rows)"
            )

        if warehouse.engine == "duckdb":
            assert warehouse.duckdb_path is not None
            return load_duckdb(
                tables, warehouse.duckdb_path, mode=mode, on_loaded=on_loaded
            )
        if warehouse.engine == "spark":
            assert warehouse.spark is not None
            session = spark_session(warehouse.spark.session_conf)
            return load_spark(tables, session, mode=mode, on_loaded=on_loaded)
        assert warehouse.postgres is not None
        conninfo = warehouse.postgres.conninfo()
        ensure_database(conninfo)
        return load_postgres(tables, conninfo, mode=mode, on_loaded=on_loaded)


def run_dbt_build(warehouse: Warehouse) -> bool:
    """``dbt build`` in-process against the warehouse; True when it succeeded."""
    os.environ.update(warehouse.dbt_env())
    from dbt.cli.main import dbtRunner  # heavy: only when dbt actually runs

    project_dir = str(warehouse.project_dir)
    args = [
        "build",
        "--project-dir",
        project_dir,
        "--profiles-dir",
        project_dir,
        "--target",
        warehouse.target,
    ]
    with console.status("dbt build …"):
        result = dbtRunner().invoke(args)
    if result.exception is not None:
        console.print(f"[red]dbt build raised:[/] {result.exception}")
    return bool(result.success)


def count_rows_by_schema(
    warehouse: Warehouse, schemas: tuple[str, ...] = SUMMARY_SCHEMAS
) -> dict[str, tuple[int, int | None]]:
    """(relations, total rows) per existing schema; rows is None if a relation failed."""
    if warehouse.engine == "duckdb":
        return _count_duckdb(warehouse, schemas)
    if warehouse.engine == "spark":
        return _count_spark(warehouse, schemas)
    return _count_postgres(warehouse, schemas)


def _sum_counts(
    relations: list[tuple[str, str]], count: Callable[[str, str], int | None]
) -> dict[str, tuple[int, int | None]]:
    summary: dict[str, tuple[int, int | None]] = {}
    for schema, name in relations:
        tables, rows = summary.get(schema, (0, 0))
        counted = count(schema, name)
        total = None if rows is None or counted is None else rows + counted
        summary[schema] = (tables + 1, total)
    return summary


_LIST_RELATIONS = (
    "select table_schema, table_name from information_schema.tables"
    " where table_schema in ({}) order by 1, 2"
)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _count_duckdb(warehouse: Warehouse, schemas: tuple[str, ...]) -> SchemaCounts:
    import duckdb

    assert warehouse.duckdb_path is not None
    if not warehouse.duckdb_path.exists():
        return {}
    # Not read-only: dbt-duckdb may still hold this file open in-process (same config).
    with duckdb.connect(str(warehouse.duckdb_path)) as connection:
        placeholders = ", ".join("?" for _ in schemas)
        relations = connection.execute(
            _LIST_RELATIONS.format(placeholders), list(schemas)
        ).fetchall()

        def count(schema: str, name: str) -> int | None:
            query = f"select count(*) from {_quote(schema)}.{_quote(name)}"
            try:
                return connection.execute(query).fetchall()[0][0]
            except duckdb.Error:  # a broken view must not hide the other counts
                return None

        return _sum_counts(relations, count)


def _count_postgres(warehouse: Warehouse, schemas: tuple[str, ...]) -> SchemaCounts:
    import psycopg

    assert warehouse.postgres is not None
    with psycopg.connect(warehouse.postgres.conninfo(), autocommit=True) as connection:
        placeholders = ", ".join("%s" for _ in schemas)
        relations = connection.execute(
            _LIST_RELATIONS.format(placeholders), list(schemas)
        ).fetchall()

        def count(schema: str, name: str) -> int | None:
            query = f"select count(*) from {_quote(schema)}.{_quote(name)}"
            try:
                return connection.execute(query).fetchall()[0][0]
            except psycopg.Error:  # a broken view must not hide the other counts
                return None

        return _sum_counts(relations, count)


def _spark_rows(warehouse: Warehouse, query: str) -> list[tuple]:
    """Rows of a query on the Spark warehouse (this process's session, as dbt left it)."""
    assert warehouse.spark is not None
    session = spark_session(warehouse.spark.session_conf)
    return [tuple(row) for row in session.sql(query).collect()]


def _count_spark(warehouse: Warehouse, schemas: tuple[str, ...]) -> SchemaCounts:
    assert warehouse.spark is not None
    session = spark_session(warehouse.spark.session_conf)
    existing = {row[0] for row in session.sql("show databases").collect()}
    relations = [
        (schema, row.tableName)
        for schema in schemas
        if schema in existing
        for row in session.sql(f"show tables in `{schema}`").collect()
        if not row.isTemporary
    ]

    def count(schema: str, name: str) -> int | None:
        try:
            return session.table(f"`{schema}`.`{name}`").count()
        except Exception:  # noqa: BLE001 - a broken view must not hide the other counts
            return None

    return _sum_counts(relations, count)


@contextmanager
def _step(steps: list[StepResult], name: str) -> Iterator[StepResult]:
    result = StepResult(name, 0.0)
    started = time.perf_counter()
    try:
        yield result
    except Exception as error:  # noqa: BLE001 - a failed step still gets its summary
        result.ok = False
        result.detail = f"{type(error).__name__}: {error}"
        console.print_exception(max_frames=5)
    finally:
        result.seconds = time.perf_counter() - started
        steps.append(result)
        mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
        console.print(f"{mark} {name} ({result.seconds:.1f} s) {result.detail}")


def _print_loaded(rows: dict[str, int], warehouse: Warehouse, seconds: float) -> None:
    table = Table(title=f"Loaded into {warehouse.describe()} in {seconds:.1f} s")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        schema = "truth" if name in TRUTH_COLUMNS else "raw"
        table.add_row(f"{schema}.{name}", f"{count:,}")
    console.print(table)


def _print_summary(
    steps: list[StepResult], counts: dict[str, tuple[int, int | None]]
) -> None:
    timing = Table(title="Steps")
    for column, justify in (("step", "left"), ("seconds", "right"), ("result", "left")):
        timing.add_column(column, justify=justify)
    for step in steps:
        status = step.detail if step.ok else f"[red]{step.detail}[/]"
        timing.add_row(step.name, f"{step.seconds:.1f}", status)
    console.print(timing)
    rows = Table(title="Rows per schema")
    for column, justify in (
        ("schema", "left"),
        ("relations", "right"),
        ("rows", "right"),
    ):
        rows.add_column(column, justify=justify)
    for schema in SUMMARY_SCHEMAS:
        if schema in counts:
            relations, total = counts[schema]
            rows.add_row(
                schema, str(relations), "error" if total is None else f"{total:,}"
            )
        else:
            rows.add_row(schema, "-", "[dim]not built[/]")
    console.print(rows)


def _register_subcommands() -> None:
    """`cdp sync ...` lives with the sync engine, `cdp bench` with the benchmarks;
    registered here so `cdp` has it all."""
    from orchestration.bench.cli import bench
    from orchestration.syncs.cli import sync

    main.add_command(sync)
    main.add_command(bench)


_register_subcommands()
