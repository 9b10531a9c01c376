"""`cdp sync ...`: run audience syncs, preview them, replay dead letters, show recent runs,
forget erased people (right to be forgotten).

Registered into the `cdp` command by its owner (``cli.add_command(sync)``); also runs on
its own: ``python -m orchestration.syncs.cli run --all --dry-run``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from orchestration.syncs.errors import SyncError

console = Console(highlight=False, soft_wrap=True)


def _common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--target", envvar="DBT_TARGET", default="dev", show_default=True,
                     help="Warehouse: dev (DuckDB) or pg (PostgreSQL)."),
        click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path),
                     help="dbt manifest (default: target/manifest.json; CDP_MANIFEST_PATH)."),
        click.option("--destinations", "destinations_file",
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Destinations file (default: destinations.yml; "
                          "CDP_DESTINATIONS_FILE)."),
        click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="dbt project folder (default: found from the current folder)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(name="sync")
def sync() -> None:
    """Sync dbt audiences to their destinations (reverse ETL)."""


@sync.command("run")
@click.argument("audiences", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run the syncs of every audience.")
@click.option("--dry-run", is_flag=True, help="Print diff counts and a sample; send nothing.")
@click.option("--sample", default=5, show_default=True, help="Rows shown by --dry-run.")
@_common_options
def run_command(
    audiences: Sequence[str],
    run_all: bool,
    dry_run: bool,
    sample: int,
    target: str,
    manifest: Path | None,
    destinations_file: Path | None,
    project_dir: Path | None,
) -> None:
    """Run the syncs of AUDIENCES (names like winback or aud_winback) or --all."""
    if not audiences and not run_all:
        raise click.UsageError("name one or more audiences, or pass --all")
    if audiences and run_all:
        raise click.UsageError("pass audiences or --all, not both")
    results = _run(
        audiences=list(audiences) or None, target=target, dry_run=dry_run, manifest=manifest,
        destinations_file=destinations_file, project_dir=project_dir, sample=sample,
    )
    if not results:
        console.print("No audience declares meta.cdp_audience syncs: nothing to do.")
    _exit_on_failure(results)


@sync.command("replay")
@click.argument("audiences", nargs=-1)
@_common_options
def replay_command(
    audiences: Sequence[str],
    target: str,
    manifest: Path | None,
    destinations_file: Path | None,
    project_dir: Path | None,
) -> None:
    """Re-send open dead letters (of AUDIENCES, or all); policies are applied again."""
    results = _run(
        audiences=list(audiences) or None, target=target, replay=True, manifest=manifest,
        destinations_file=destinations_file, project_dir=project_dir,
    )
    if not results:
        console.print("No open dead letters.")
    _exit_on_failure(results)


@sync.command("forget")
@_common_options
def forget_command(
    target: str,
    manifest: Path | None,
    destinations_file: Path | None,
    project_dir: Path | None,
) -> None:
    """Forget the people of dbt's privacy tombstones in every sync: deletes at the
    destinations that hold them, then a purge of the sync state. Every sync run does this
    first; safe to re-run."""
    from orchestration.syncs.runner import forget_people

    try:
        report = forget_people(target=target, manifest=manifest,
                               destinations_file=destinations_file, project_dir=project_dir)
    except (SyncError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    for result in report.runs:
        _print_result(result, 0)
    for note in report.notes:
        if not note.startswith("forget_unsupported"):
            console.print(f"[yellow]{note}[/]")
    console.print(report.summary())
    _exit_on_failure(report.runs)


@sync.command("status")
@click.option("--limit", default=20, show_default=True)
@click.option("--target", envvar="DBT_TARGET", default="dev", show_default=True)
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path))
def status_command(limit: int, target: str, project_dir: Path | None) -> None:
    """Show the latest sync runs and open dead letters."""
    from orchestration.syncs import state
    from orchestration.syncs.runner import default_warehouse

    with default_warehouse(target, project_dir).connect() as connection:
        if connection.relation_columns(state.SCHEMA, "cdp_sync_runs") is None:
            console.print("No sync has run in this warehouse yet.")
            return
        runs = connection.fetchall(
            f"select started_at, sync_key, status, rows_added, rows_changed, rows_removed, "
            f"rows_failed, rows_suppressed from {state.RUNS} "
            f"order by started_at desc limit {int(limit)}"
        )
        dead = connection.fetchall(
            f"select sync_key, count(*) from {state.DEAD_LETTER} where status = 'open' "
            "group by sync_key order by sync_key"
        )
    console.print("[bold]Recent sync runs[/] (UTC; +added ~changed -removed)")
    for started, sync_key, status, added, changed, removed, failed, suppressed in runs:
        colour = {"success": "green", "partial": "yellow", "running": "cyan"}.get(status, "red")
        console.print(
            f"{str(started)[:16]}  {sync_key}  [{colour}]{status}[/]  "
            f"+{added} ~{changed} -{removed}  failed {failed}  suppressed {suppressed}"
        )
    for sync_key, count in dead:
        console.print(f"[yellow]{count} open dead letters[/] in {sync_key} "
                      "(cdp sync replay)")


@sync.command("receiver")
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where accepted records are appended (default: "
                   ".cdp/demo_webhook/received.jsonl in the project).")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path))
def receiver_command(port: int, log_path: Path | None, project_dir: Path | None) -> None:
    """Run the local demo webhook receiver (the demo_webhook destination) until Ctrl-C."""
    from orchestration.syncs.demo_receiver import DemoReceiver, default_log_path
    from orchestration.warehouse import find_project_dir

    log_path = log_path or default_log_path(project_dir or find_project_dir())
    receiver = DemoReceiver("127.0.0.1", port, log_path)
    console.print(f"demo webhook receiver on http://127.0.0.1:{receiver.port}/ -> {log_path}")
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        console.print(f"{receiver.accepted} records accepted, {receiver.duplicates} duplicates")


def _run(*, sample: int = 5, **kwargs: Any) -> list[Any]:
    from orchestration.syncs.runner import run_syncs

    def show(result: Any) -> None:
        _print_result(result, sample)

    try:
        return run_syncs(on_result=show, sample_size=sample, **kwargs)
    except (SyncError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error


def _print_result(result: Any, sample: int) -> None:
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(result.suppressed_by_reason.items()))
    if result.dry_run:
        planned = result.planned
        console.print(
            f"[bold]{result.sync_key}[/] (dry run, {result.mode}): "
            f"{planned.get('add', 0)} to add, {planned.get('change', 0)} to change, "
            f"{planned.get('remove', 0)} to remove; suppressed {result.rows_suppressed}"
            + (f" ({reasons})" if reasons else "")
        )
        if result.sample:
            table = Table(*result.sample[0].keys(), title=f"first {sample} changes")
            for row in result.sample:
                table.add_row(*(_cell(value) for value in row.values()))
            console.print(table)
        return
    colour = {"success": "green", "partial": "yellow"}.get(result.status, "red")
    if result.mode == "forget":
        if result.status == "forget_unsupported":
            console.print(f"[yellow]{result.notes[0]}[/]")
            return
        console.print(
            f"[bold]{result.sync_key}[/] forget [{colour}]{result.status}[/]: "
            f"{result.rows_removed} forgotten people deleted at {result.destination}, "
            f"failed {result.rows_failed}"
        )
        if result.error_sample:
            console.print(f"  [red]{result.error_sample.splitlines()[0]}[/]")
        return
    console.print(
        f"[bold]{result.sync_key}[/] [{colour}]{result.status}[/]: "
        f"+{result.rows_added} ~{result.rows_changed} -{result.rows_removed}, "
        f"failed {result.rows_failed}, suppressed {result.rows_suppressed}"
        + (f" ({reasons})" if reasons else "")
        + (f", dead-lettered {result.rows_dead_lettered}" if result.rows_dead_lettered else "")
    )
    if result.error_sample:
        console.print(f"  [red]{result.error_sample.splitlines()[0]}[/]")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _exit_on_failure(results: Sequence[Any]) -> None:
    if any(result.status == "failed" for result in results):
        raise SystemExit(1)


def main() -> None:
    sync()


if __name__ == "__main__":
    main()
