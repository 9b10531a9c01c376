"""`cdp bench`: generate, build, stitch, increment and sync N people; print the figures.

    cdp bench --people 1000000 [--target dev|pg] [--workdir DIR] [--seed 42]

Prints tables (steps, seconds per layer, slowest nodes) and, as its last line, one JSON
object with every figure. DuckDB works in a scratch file (a temporary folder, removed
afterwards, or --workdir, kept); PostgreSQL in a throw-away database, dropped afterwards.
Progress goes to stderr, so stdout is the tables and the JSON line.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from orchestration.generate.people import MAX_PEOPLE
from orchestration.warehouse import TARGET_ENGINES

if TYPE_CHECKING:
    from orchestration.bench.runner import BenchReport, Step


@click.command()
@click.option("--people", type=click.IntRange(1, MAX_PEOPLE), default=1_000_000,
              show_default=True)
@click.option("--target", type=click.Choice(sorted(
                  t for t, engine in TARGET_ENGINES.items() if engine != "spark")), default="dev",
              show_default=True,
              help="dev: a scratch DuckDB file; pg: a throw-away PostgreSQL database.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the scratch DuckDB file, dbt target/logs and sync exports "
                   "(kept). Default: a temporary folder, removed afterwards.")
@click.option("--seed", type=int, default=42, show_default=True)
def bench(people: int, target: str, workdir: Path | None, seed: int) -> None:
    """Benchmark the whole pipeline at N people; the last line printed is JSON."""
    from orchestration.bench.runner import run_bench  # scipy, dagster: import when used

    progress = Console(stderr=True, highlight=False)
    out = Console(highlight=False, soft_wrap=True)
    temporary = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="cdp-bench-")) if temporary else workdir
    assert folder is not None
    progress.print(f"[bold]cdp bench[/] {people:,} people on {target}, work folder {folder}")

    def on_step(step: Step) -> None:
        progress.print(f"[green]✓[/] {step.name} ({step.seconds:.1f} s, "
                       f"{step.peak_rss_mb:,.0f} MB) {step.detail}")

    try:
        report = run_bench(people, seed=seed, target=target, workdir=folder, on_step=on_step)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    _print_report(out, report)
    click.echo(json.dumps(report.figures))
    if report.figures.get("dbt_failures"):
        raise click.exceptions.Exit(1)


def _print_report(out: Console, report: BenchReport) -> None:
    figures = report.figures
    steps = Table(title=f"cdp bench: {figures['people']:,} people, {figures['raw_rows']:,} raw "
                        f"rows, {figures['target']}, {figures['cpus']} cores, {figures['date']}")
    for column, justify in (("step", "left"), ("seconds", "right"), ("peak MB", "right"),
                            ("detail", "left")):
        steps.add_column(column, justify=justify)  # type: ignore[arg-type]
    for step in report.steps:
        steps.add_row(step.name, f"{step.seconds:.2f}", f"{step.peak_rss_mb:,.0f}", step.detail)
    out.print(steps)

    layers = Table(title="dbt build: seconds per layer (sum of node times, "
                         f"{figures.get('dbt_threads') or '?'} dbt threads)")
    for column in ("layer", "full", "models", "tests", "nodes", "incremental"):
        layers.add_column(column, justify="left" if column == "layer" else "right")
    full: dict[str, Any] = figures["build_layers"]
    incremental: dict[str, Any] = figures["incremental_layers"]
    for name, layer in full.items():
        if not layer["nodes"]:
            continue
        again = incremental.get(name, {}).get("s", 0.0)
        layers.add_row(name, f"{layer['s']:.2f}", f"{layer['models_s']:.2f}",
                       f"{layer['tests_s']:.2f}", str(layer["nodes"]), f"{again:.2f}")
    out.print(layers)

    slowest = Table(title="Slowest nodes (full build)")
    for column in ("node", "layer", "seconds"):
        slowest.add_column(column, justify="right" if column == "seconds" else "left")
    for node in figures["build_top_nodes"]:
        kind, *_, name = node["node"].split(".")
        slowest.add_row(f"{name} ({kind})", node["layer"], f"{node['s']:.2f}")
    out.print(slowest)

    ratios = Table(title="Ratios within this run")
    ratios.add_column("figure")
    ratios.add_column("value", justify="right")
    for label, value in (
        ("identity_clusters model / scipy CC", figures["identity_vs_scipy"]),
        ("SQL CC loop alone / scipy CC", figures["cc_sql_vs_scipy"]),
        ("incremental build / full build", figures["incremental_share"]),
        ("file sync rows per second", f"{figures['sync_rows_per_s']:,}"),
        ("webhook rows per second", f"{figures['webhook_rows_per_s']:,}"),
        ("peak resident memory (MB)", f"{figures['peak_rss_mb']:,}"),
    ):
        ratios.add_row(label, str(value))
    out.print(ratios)
    for failure in figures.get("dbt_failures") or []:
        out.print(f"[red]failed:[/] {failure}")
