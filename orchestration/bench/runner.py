"""The whole benchmark behind ``cdp bench``: one run, one set of figures.

Steps, each timed wall-clock with its peak resident memory:

1. generate: the demo generator writes every raw table (batch 0) into a scratch warehouse;
2. build: a full ``dbt build`` (models, seeds, snapshots, data tests; not the fixed-size
   unit tests) as a subprocess; seconds per layer and the slowest nodes come from its
   run_results.json;
3. identity: the identity_clusters model time from that build, the project's SQL
   connected-components loop on the guarded edges alone (``dbt run-operation``), and
   scipy on the same edges;
4. incremental: batch 1 (about 1 % new rows) appended, ``dbt build`` again;
5. sync: the largest audience synced to files (diff + CSV/Parquet export), again with no
   change (the diff alone), then to a webhook served on 127.0.0.1 by another process.

Ratios (identity vs scipy, incremental vs full build) are measured within one run, so they
hold better than absolute seconds on a shared machine.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.bench import identity, memory, sync
from orchestration.bench.run_results import BuildProfile, profile_build
from orchestration.bench.workspace import DbtError, DbtRun, Scratch
from orchestration.generate import TRUTH_COLUMNS
from orchestration.resources.warehouse import WarehouseConnection
from orchestration.syncs.config import audience_nodes

# A production build: models, seeds, snapshots and data tests. dbt unit tests are fixed-size
# fixtures (CI runs them, via pytest) whose cost does not grow with the data.
BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test")


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    detail: str = ""


@dataclass
class BenchReport:
    figures: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    build: BuildProfile | None = None
    incremental: BuildProfile | None = None


OnStep = Callable[[Step], None]


def generate_raw(scratch: Scratch, people: int, seed: int, batch: int = 0) -> dict[str, int]:
    """Generate one batch and load it into the scratch warehouse (batch 0 replaces, later
    batches append), exactly as ``cdp generate`` does; returns rows per table."""
    # imported here: orchestration.cli imports this package to register `cdp bench`
    from orchestration.cli import load_demo_data

    return load_demo_data(scratch.warehouse, people, seed, batch=batch)


def raw_row_count(rows: Mapping[str, int]) -> int:
    """Rows of the raw contract tables (the truth table is the generator's answer key)."""
    return sum(count for name, count in rows.items() if name not in TRUTH_COLUMNS)


def largest_audience(
    connection: WarehouseConnection, manifest: Mapping[str, Any]
) -> tuple[Mapping[str, Any], int, list[str]] | None:
    """The audience model (manifest node) with the most rows: (node, rows, columns)."""
    best: tuple[Mapping[str, Any], int, list[str]] | None = None
    for node in audience_nodes(manifest):
        schema, name = node.get("schema") or "audiences", node.get("alias") or node["name"]
        columns = connection.relation_columns(schema, name)
        if columns is None:
            continue
        rows = int(connection.scalar(
            f"select count(*) from {connection.quote(schema)}.{connection.quote(name)}"
        ))
        if best is None or rows > best[1]:
            best = (node, rows, columns)
    return best


def _round(value: float, digits: int = 2) -> float:
    return round(value, digits)


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None


class _Bench:
    def __init__(self, scratch: Scratch, people: int, seed: int, on_step: OnStep | None) -> None:
        self.scratch = scratch
        self.people = people
        self.seed = seed
        self.on_step = on_step
        self.report = BenchReport(figures={})
        self.failures: list[str] = []

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Time a step; its memory is this process's peak during it, or the dbt child's."""
        step = Step(name)
        memory.reset_self_peak()
        started = time.perf_counter()
        yield step
        step.seconds = time.perf_counter() - started
        step.peak_rss_mb = max(step.peak_rss_mb, memory.self_peak_mb())
        self.report.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def build(self, step: Step) -> tuple[DbtRun, BuildProfile]:
        run = self.scratch.dbt(*BUILD_ARGS, check=False)
        if run.run_results is None:
            raise DbtError(f"dbt build wrote no run_results.json (log {run.log_path}):\n"
                           f"{run.tail()}")
        profile = profile_build(run.run_results, self.scratch.manifest())
        self.failures += profile.failures
        step.peak_rss_mb = run.peak_rss_mb
        step.detail = (f"{len(run.run_results['results'])} nodes, "
                       f"{len(profile.failures)} failed" if profile.failures
                       else f"{len(run.run_results['results'])} nodes ok")
        return run, profile

    def run(self) -> BenchReport:
        figures = self.report.figures
        with self.step("generate") as step:
            rows = generate_raw(self.scratch, self.people, self.seed)
            raw_rows = raw_row_count(rows)
            step.detail = f"{self.people:,} people, {raw_rows:,} raw rows"
        generate_s = step.seconds

        with self.step("dbt build (full)") as step:
            build_run, self.report.build = self.build(step)
        build = self.report.build

        with self.step("identity: SQL CC vs scipy") as step:
            with self.scratch.resource().connect() as connection:
                edges = identity.prepare_edges(connection)
                clustering = identity.latest_clustering(connection)
            cc = identity.sql_components(self.scratch)
            step.peak_rss_mb = self.scratch.runs[-1].peak_rss_mb
            with self.scratch.resource().connect() as connection:
                node_a, node_b = identity.fetch_edges(connection)
            scipy_cc = identity.scipy_components(node_a, node_b)
            del node_a, node_b
            step.detail = (f"{edges:,} edges, SQL CC {cc['seconds']:.2f} s in "
                           f"{cc['rounds']} rounds, scipy {scipy_cc.seconds:.3f} s")

        with self.step("append batch 1") as step:
            appended = raw_row_count(generate_raw(self.scratch, self.people, self.seed, 1))
            step.detail = f"{appended:,} raw rows ({appended / max(raw_rows, 1):.1%})"
        append_s = step.seconds

        with self.step("dbt build (incremental)") as step:
            incremental_run, self.report.incremental = self.build(step)
        with self.scratch.resource().connect() as connection:
            incremental_clustering = identity.latest_clustering(connection)

        sync_figures = self.sync()

        identity_s = build.model_seconds("identity_clusters")
        identity_layer = build.layers.get("identity")
        figures.update({
            "people": self.people,
            "raw_rows": raw_rows,
            "generate_s": _round(generate_s),
            "build_s": _round(build_run.seconds),
            "identity_s": _round(identity_s),
            "scipy_cc_s": _round(scipy_cc.seconds, 3),
            "identity_vs_scipy": _ratio(identity_s, scipy_cc.seconds),
            "incremental_s": _round(incremental_run.seconds),
            "incremental_share": _ratio(incremental_run.seconds, build_run.seconds),
            **sync_figures,
            "peak_rss_mb": round(max(
                memory.run_peak_mb(), *(step.peak_rss_mb for step in self.report.steps)
            )),
            "target": self.scratch.target,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
            "seed": self.seed,
            "cpus": os.cpu_count(),
            "memory_gb": _memory_gb(),
            "python": platform.python_version(),
            "cc_sql_s": _round(float(cc["seconds"]), 3),
            "cc_sql_rounds": cc["rounds"],
            "cc_sql_vs_scipy": _ratio(float(cc["seconds"]), scipy_cc.seconds),
            "identity_cc_rounds": clustering.get("cc_rounds"),
            "identity_split_rounds": clustering.get("split_rounds"),
            "identity_layer_s": _round(identity_layer.total_s if identity_layer else 0.0),
            "edges": edges,
            "nodes": scipy_cc.nodes,
            "components": scipy_cc.components,
            "largest_component": scipy_cc.largest,
            "build_layers": build.layers_dict(),
            "build_sql_s": _round(sum(build.node_seconds.values())),
            "dbt_threads": build.threads,
            "build_top_nodes": build.slowest_dict(),
            "append_s": _round(append_s),
            "incremental_raw_rows": appended,
            "incremental_identity_s": _round(
                self.report.incremental.model_seconds("identity_clusters")),
            "incremental_identity_mode": incremental_clustering.get("mode"),
            "incremental_layers": self.report.incremental.layers_dict(),
            "incremental_top_nodes": self.report.incremental.slowest_dict(),
            "step_peak_rss_mb": {step.name: round(step.peak_rss_mb)
                                 for step in self.report.steps},
            "dbt_failures": self.failures[:20],
        })
        return self.report

    def sync(self) -> dict[str, Any]:
        manifest = self.scratch.manifest()
        resource = self.scratch.resource()
        with resource.connect() as connection:
            chosen = largest_audience(connection, manifest)
        if chosen is None:
            raise DbtError("no audience table was built: nothing to sync")
        node, members, columns = chosen
        identifiers = ["customer_id", *(["email"] if "email" in columns else [])]
        fields = [column for column in columns if column not in identifiers]
        bench_manifest = sync.audience_manifest(node, identifiers, fields)
        with sync.receiver() as url:
            destinations = sync.write_destinations(self.scratch.workdir / "sync", url)
            with self.step("sync: diff + file export") as step:
                files = sync.timed_sync(bench_manifest, sync.FILES, destinations, resource)
                diff_only = sync.timed_sync(bench_manifest, sync.FILES, destinations, resource)
                step.detail = (f"{node['name']}: {members:,} members, "
                               f"{files.result.rows_sent:,} sent in {files.seconds:.2f} s; "
                               f"no-change diff {diff_only.seconds:.2f} s")
            with self.step("sync: webhook") as step:
                webhook = sync.timed_sync(bench_manifest, sync.WEBHOOK, destinations, resource)
                step.detail = (f"{webhook.result.rows_sent:,} rows in "
                               f"{webhook.result.batches_sent} batches, "
                               f"{webhook.result.status}")
        for timed in (files, diff_only, webhook):
            if timed.result.status not in ("success",):
                self.failures.append(
                    f"sync {timed.result.sync_key}: {timed.result.status} "
                    f"{timed.result.errors[:3]}"
                )
        return {
            "sync_rows": files.result.rows_sent,
            "sync_s": _round(files.seconds, 3),
            "sync_rows_per_s": round(files.rows_per_second),
            "webhook_rows": webhook.result.rows_sent,
            "webhook_s": _round(webhook.seconds, 3),
            "webhook_rows_per_s": round(webhook.rows_per_second),
            "sync_audience": node["name"],
            "sync_audience_rows": members,
            "sync_suppressed": files.result.rows_suppressed,
            "sync_diff_only_s": _round(diff_only.seconds, 3),
        }


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def run_bench(
    people: int,
    seed: int = 42,
    target: str = "dev",
    workdir: Path | None = None,
    project_dir: Path | None = None,
    on_step: OnStep | None = None,
) -> BenchReport:
    """Run every step in a scratch warehouse under ``workdir``; the PostgreSQL database (if
    any) is dropped at the end, files in ``workdir`` are left to the caller."""
    if workdir is None:
        raise ValueError("run_bench needs a workdir (cdp bench makes a temporary one)")
    scratch = Scratch.open(target, workdir, project_dir)
    try:
        return _Bench(scratch, people, seed, on_step).run()
    finally:
        scratch.drop()
