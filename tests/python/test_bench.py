"""`cdp bench` end to end on DuckDB at a small scale: every step runs and the last line
of its output is one JSON object holding every figure, with sane values."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

PEOPLE = 2000
TIMED = ("generate_s", "build_s", "identity_s", "scipy_cc_s", "incremental_s", "sync_s",
         "webhook_s")
REQUIRED = (
    "people", "raw_rows", *TIMED, "identity_vs_scipy", "incremental_share", "sync_rows",
    "sync_rows_per_s", "webhook_rows", "webhook_rows_per_s", "peak_rss_mb", "target", "date",
)
LAYERS = ("staging", "identity", "marts", "audiences")


def _cdp() -> str:
    beside = Path(sys.executable).parent / "cdp"
    return str(beside) if beside.exists() else str(shutil.which("cdp"))


def test_cdp_bench_prints_every_figure_as_its_last_line(tmp_path: Path) -> None:
    workdir = tmp_path / "bench"
    completed = subprocess.run(
        [_cdp(), "bench", "--people", str(PEOPLE), "--workdir", str(workdir)],
        capture_output=True, text=True, timeout=1200, check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    last_line = completed.stdout.strip().splitlines()[-1]
    figures = json.loads(last_line)

    missing = [key for key in REQUIRED if key not in figures]
    assert not missing, missing
    assert figures["people"] == PEOPLE
    assert figures["target"] == "dev"
    assert len(figures["date"]) == 10 and figures["date"][4] == "-"
    assert figures["raw_rows"] > 10 * PEOPLE
    assert all(figures[key] > 0 for key in TIMED), {key: figures[key] for key in TIMED}
    # the identity model does more than connected components, and SQL is never cheaper
    # than scipy's in-memory search on the same edges
    assert figures["identity_s"] >= figures["cc_sql_s"] * 0.5
    assert figures["identity_vs_scipy"] > 1 and figures["cc_sql_vs_scipy"] > 1
    assert figures["edges"] > 0 and figures["components"] > 0
    assert 0 < figures["incremental_share"] < 5
    assert 0.005 < figures["incremental_raw_rows"] / figures["raw_rows"] < 0.05
    assert figures["incremental_identity_mode"] == "incremental"
    # the largest audience is synced: every unsuppressed member, to files and the webhook
    assert figures["sync_rows"] > 0
    assert figures["sync_rows"] + figures["sync_suppressed"] == figures["sync_audience_rows"]
    assert figures["webhook_rows"] == figures["sync_rows"]
    assert figures["sync_rows_per_s"] > 0 and figures["webhook_rows_per_s"] > 0
    assert 50 < figures["peak_rss_mb"] < 16_000
    assert figures["dbt_failures"] == []
    for layer in LAYERS:
        assert figures["build_layers"][layer]["models_s"] > 0, layer
    assert len(figures["build_top_nodes"]) == 5
    # the tables come before the JSON line; the scratch database stays in the workdir
    assert "seconds per layer" in completed.stdout
    assert (workdir / "cdp_bench.duckdb").exists()
    assert (workdir / "sync" / "exports").is_dir()
