"""The `sync` command group, and a run killed mid-sync that resumes without duplicates."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from orchestration.syncs.cli import sync

from .conftest import Project, Receiver, customers

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def cli_args(project: Project) -> list[str]:
    manifest = project.tmp_path / "manifest.json"
    manifest.write_text(json.dumps(project.manifest()))
    project.write()
    return ["--target", "dev", "--manifest", str(manifest),
            "--destinations", str(project.destinations_file),
            "--project-dir", str(project.tmp_path)]


def cli_env(project: Project) -> dict[str, str]:
    return {"CDP_DUCKDB_PATH": str(project.wh.resource.duckdb_file())}


def test_dry_run_prints_counts_and_sample(duck_project: Project) -> None:
    duck_project.destinations["demo_files"] = {"type": "file", "path": "exports",
                                               "pii": "allowed"}
    duck_project.add_audience("vip", {"destination": "demo_files", "mode": "mirror",
                                      "identifiers": ["customer_id", "email"],
                                      "fields": ["city"]})
    duck_project.wh.audience("vip", customers(7))
    result = CliRunner().invoke(
        sync, ["run", "vip", "--dry-run", "--sample", "2", *cli_args(duck_project)],
        env=cli_env(duck_project),
    )
    assert result.exit_code == 0, result.output
    assert "vip__demo_files (dry run, mirror): 7 to add, 0 to change, 0 to remove" in result.output
    assert "c00001" in result.output and "c00003" not in result.output
    assert not (duck_project.tmp_path / "exports").exists()


def test_run_all_status_and_errors(duck_project: Project) -> None:
    duck_project.destinations["demo_files"] = {"type": "file", "path": "exports",
                                               "pii": "allowed"}
    duck_project.add_audience("vip", {"destination": "demo_files",
                                      "identifiers": ["customer_id", "email"]})
    duck_project.wh.audience("vip", customers(3))
    runner = CliRunner()
    env = cli_env(duck_project)
    args = cli_args(duck_project)
    usage = runner.invoke(sync, ["run", *args], env=env)
    assert usage.exit_code == 2 and "name one or more audiences, or pass --all" in usage.output
    ran = runner.invoke(sync, ["run", "--all", *args], env=env)
    assert ran.exit_code == 0, ran.output
    assert "vip__demo_files success: +3 ~0 -0" in ran.output
    status = runner.invoke(sync, ["status", "--target", "dev", "--project-dir",
                                  str(duck_project.tmp_path)], env=env)
    assert status.exit_code == 0 and "vip__demo_files" in status.output
    unknown = runner.invoke(sync, ["run", "nobody", *args], env=env)
    assert unknown.exit_code == 1 and "no audience or sync named 'nobody'" in unknown.output


def test_killed_run_resumes_without_duplicate_deliveries(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    duck_project.destinations["esp"] = {
        "type": "webhook", "url": url, "pii": "allowed", "batch_size": 10,
        "retry_backoff_seconds": 0.01, **webhook_env,
    }
    duck_project.add_audience("vip", {"destination": "esp", "mode": "upsert",
                                      "channel": "email",
                                      "identifiers": ["customer_id", "email"],
                                      "fields": ["city"]})
    rows = customers(50)
    duck_project.wh.audience("vip", rows)
    duck_project.wh.consent([(row["customer_id"], "email", True) for row in rows])

    # The third batch is applied by the destination, which then never answers: the worst
    # moment to die (delivered, not yet recorded as synced).
    receiver.then({}, {}, {"hold": True})
    duck_project.wh.close()  # the subprocess needs the DuckDB file to itself
    env = {**os.environ, **cli_env(duck_project), "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.syncs.cli", "run", "vip",
         *cli_args(duck_project)],
        env=env, cwd=duck_project.tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert receiver.holding.wait(timeout=60), process.communicate(timeout=5)[0]
        process.kill()
        process.wait(timeout=10)
    finally:
        receiver.release.set()
    assert len(duck_project.wh.state("vip__esp")) == 20   # batches 1 and 2 committed
    assert len(receiver.store) == 30                       # batch 3 delivered as well

    resumed = duck_project.run_one("vip")
    assert resumed.status == "success"
    assert resumed.rows_added == 30
    assert receiver.duplicates == 10                       # batch 3 again, dropped by key
    assert set(receiver.store) == {row["customer_id"] for row in rows}
    assert max(receiver.applied_keys_per_record().values()) == 1
    assert len(duck_project.wh.state("vip__esp")) == 50
    runs = duck_project.wh.runs("vip__esp")
    assert [run["status"] for run in runs] == ["interrupted", "success"]
    assert runs[0]["rows_added"] == 20
    sent = duck_project.wh.sql(
        "select count(*), count(distinct customer_id) from cdp_sync.sync_events "
        "where event_type = 'message_sent'"
    )
    assert sent == [(50, 50)]


def test_demo_step_runs_every_sync(duck_project: Project) -> None:
    from orchestration.syncs.runner import demo_step
    from orchestration.warehouse import warehouse_for

    root = duck_project.tmp_path
    (root / "dbt_project.yml").write_text("name: cdp\n")
    duck_project.destinations["demo_files"] = {"type": "file", "path": ".cdp/exports",
                                               "pii": "allowed"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    duck_project.destinations["demo_webhook"] = {
        "type": "webhook", "url": f"http://127.0.0.1:{port}/v1/contacts", "pii": "allowed",
    }
    duck_project.add_audience("vip", {"destination": "demo_files", "mode": "mirror",
                                      "identifiers": ["customer_id", "email"]})
    duck_project.add_audience("lapsed", {"destination": "demo_files", "mode": "upsert",
                                         "channel": "email",
                                         "identifiers": ["customer_id", "email"]},
                              {"destination": "demo_webhook", "channel": "email",
                               "identifiers": ["customer_id", "email"]})
    duck_project.wh.audience("vip", customers(4))
    duck_project.wh.audience("lapsed", customers(3, start=10))
    duck_project.wh.consent([(row["customer_id"], "email", True)
                             for row in customers(3, start=10)])
    duck_project.write()
    (root / "target").mkdir()
    (root / "target" / "manifest.json").write_text(json.dumps(duck_project.manifest()))
    warehouse = warehouse_for(
        "dev", root, env={"CDP_DUCKDB_PATH": str(duck_project.wh.resource.duckdb_file())}
    )
    summary = demo_step(warehouse)
    assert summary == ("3 syncs: 10 rows sent, 0 suppressed, 0 failed; "
                       "demo webhook received 3 new records")
    assert (root / ".cdp" / "exports" / "vip__demo_files" / "manifest.json").exists()
    received = (root / ".cdp" / "demo_webhook" / "received.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["record_key"] for line in received) == [
        "c00010", "c00011", "c00012",
    ]
    # Run again: nothing changed, nothing sent, and the receiver restarts cleanly.
    assert demo_step(warehouse).startswith("3 syncs: 0 rows sent")
