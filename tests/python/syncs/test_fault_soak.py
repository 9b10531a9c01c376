"""Destination faults, soaked: 20 faulted runs of a 10,000-member audience to a webhook.

A DuckDB warehouse and the local receiver of the syncs conftest, which applies each record
once per idempotency key. Every run changes the audience (changed, removed and new members)
and injects faults, seeded: connection refused (a port nobody listens on), timeouts
(applied or not), 500 / 503 (applied or not), 429 with Retry-After, malformed 2xx bodies,
dropped connections, an outage that outlasts the retries, per-row rejections (2xx listing
errors, 422 listing rows) and a sync process killed while the destination holds a batch.

After every run: nothing is marked synced that the destination did not acknowledge (state
vs receiver), and the run log is truthful (rows added + changed + removed in
cdp_sync_runs, and rows accepted in cdp_sync_audit, equal what the receiver acknowledged to
that run). At the end, after clean runs, the receiver holds exactly the audience, every row
change was applied once (re-sends dropped by idempotency key), and one more run sends
nothing. The figures are printed.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .conftest import Project, Receiver, customers

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SEED = int(os.environ.get("CDP_SOAK_SEED", "17"))
AUDIENCE_ROWS = 10_000
RUNS = 20
BATCH_SIZE = 250
MAX_ATTEMPTS = 4
TIMEOUT = 0.5   # client timeout (seconds)
SLOW = 1.5      # how long a "timeout" answer takes
SYNC_KEY = "soak__esp"

# Faults a request can meet; the receiver ignores the "fault" tag, the test counts it.
TRANSIENT: dict[str, dict[str, Any]] = {
    "http_500": {"status": 500},
    "http_503_after_applying": {"status": 503, "apply": True},
    "timeout": {"delay": SLOW, "apply": False},
    "timeout_after_applying": {"delay": SLOW},
    "malformed_2xx_after_applying": {"body": "{not json"},
    "connection_dropped": {"drop": True},
    "connection_dropped_after_applying": {"drop": True, "apply": True},
}
RATE_LIMITED = {"status": 429, "headers": {"Retry-After": "1"}}
# Kind of each run after the first (the first is the initial load, killed midway).
PLAN = ["transient"] * 11 + ["partial"] * 4 + ["refused"] * 2 + ["outage"] * 2


def fault(name: str, action: Mapping[str, Any]) -> dict[str, Any]:
    return {**action, "fault": name}


@dataclass
class Answer:
    """One request as the receiver answered it."""

    run_id: str
    keys: list[str]
    status: int
    errors: set[str] | None   # None: no readable JSON answer
    read: bool                # False when the client gave up first (timeout, killed)


@dataclass
class Soak:
    project: Project
    receiver: Receiver
    url: str
    rng: random.Random
    answers: list[Answer] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_customer: int = 1
    refused_attempts: int = 0
    expected_status: dict[str, str] = field(default_factory=dict)

    # -- the receiver, watched ---------------------------------------------------------
    def watch(self) -> None:
        """Record every answer (status, row errors, whether the client could read it).

        The sync sends one request at a time (a timed-out one has already taken its
        action), so the action at the head of the script is the one this request meets."""
        handle = self.receiver.handle
        lock = threading.Lock()

        def watched(headers: Mapping[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
            with lock:
                action = self.receiver.script[0] if self.receiver.script else {}
            status, extra, payload = handle(headers, raw)
            body = json.loads(raw)
            try:
                answer = json.loads(payload) if payload else {}
                errors = {item["idempotency_key"] for item in answer.get("errors", [])}
            except (ValueError, AttributeError):
                errors = None
            with lock:
                self.answers.append(Answer(
                    body["run_id"], [record["idempotency_key"] for record in body["records"]],
                    status, errors, not {"delay", "hold", "drop"} & set(action),
                ))
            return status, extra, payload

        self.receiver.handle = watched  # type: ignore[method-assign]

    def acknowledged(self) -> dict[str, set[str]]:
        """Per run: the keys the sync process was told were accepted (a 2xx answer it
        read, not listing them as errors)."""
        acked: dict[str, set[str]] = collections.defaultdict(set)
        for answer in self.answers:
            if 200 <= answer.status < 300 and answer.errors is not None and answer.read:
                acked[answer.run_id] |= set(answer.keys) - answer.errors
        return acked

    # -- the audience ------------------------------------------------------------------
    def add_members(self, count: int, run: int) -> None:
        for row in customers(count, start=self.next_customer, city=f"city-{run}"):
            self.members[row["customer_id"]] = row
        self.next_customer += count

    def churn(self, run: int) -> None:
        """300 members change (a city never used before), 100 leave for good, 100 join."""
        keys = sorted(self.members)
        changed = self.rng.sample(keys, 300)
        for key in changed:
            self.members[key] = {**self.members[key], "city": f"city-{run}-{key}"}
        for key in self.rng.sample(sorted(set(keys) - set(changed)), 100):
            del self.members[key]
        self.add_members(100, run)

    def publish(self) -> None:
        self.project.wh.audience("soak", list(self.members.values()))

    # -- faults ------------------------------------------------------------------------
    def transient_script(self, faults: int, *, rate_limited: bool = False) -> list[dict]:
        """Faults among clean answers, at most two in a row (retries outlast them)."""
        script: list[dict[str, Any]] = []
        names = sorted(TRANSIENT)
        for _ in range(faults):
            script += [{}] * self.rng.randrange(0, 3)
            for _ in range(self.rng.choice([1, 1, 2])):
                name = self.rng.choice(names)
                script.append(fault(name, TRANSIENT[name]))
            script.append({})
        if rate_limited:
            script.insert(self.rng.randrange(len(script)), fault("http_429_retry_after",
                                                                 RATE_LIMITED))
        return script

    def destination(self, url: str) -> None:
        self.project.destinations["esp"]["url"] = url

    # -- runs --------------------------------------------------------------------------
    def run_in_process(self, kind: str, run: int) -> None:
        receiver = self.receiver
        if kind == "refused":
            self.destination(refused_url())
            self.refused_attempts += MAX_ATTEMPTS
        elif kind == "outage":
            # the second batch meets an outage longer than the retries (once applied)
            receiver.then({}, fault("http_503_after_applying", TRANSIENT[
                "http_503_after_applying"]), *[fault("http_500", {"status": 500})] * 3)
        elif kind == "partial":
            receiver.reject = lambda record: rejected_by_destination(record, run)
            receiver.then(fault("http_422_rows_listed", {"status": 422, "validate_only": True}),
                          *self.transient_script(1))
        else:
            receiver.then(*self.transient_script(self.rng.randrange(2, 4),
                                                 rate_limited=run % 7 == 2))
        try:
            result = self.project.run_one("soak")
        finally:
            self.destination(self.url)
            receiver.reject = lambda record: None
            receiver.script.clear()
        self.expected_status[result.run_id] = {
            "refused": "failed", "outage": "failed", "partial": "partial",
        }.get(kind, "success")

    def run_killed(self, hold_at: int) -> None:
        """The CLI in a subprocess, killed while the destination holds batch ``hold_at``
        (applied, not yet answered: the worst moment)."""
        receiver = self.receiver
        receiver.holding.clear()
        receiver.release.clear()
        receiver.then(*[{}] * (hold_at - 1), fault("process_killed", {"hold": True}))
        project = self.project
        manifest = project.tmp_path / "manifest.json"
        manifest.write_text(json.dumps(project.manifest()))
        project.write()
        project.wh.close()  # the subprocess needs the DuckDB file to itself
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.syncs.cli", "run", "soak", "--target", "dev",
             "--manifest", str(manifest), "--destinations", str(project.destinations_file),
             "--project-dir", str(project.tmp_path)],
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT),
                 "CDP_DUCKDB_PATH": str(project.wh.resource.duckdb_file())},
            cwd=project.tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            assert receiver.holding.wait(timeout=60), process.communicate(timeout=5)[0]
            process.kill()
            process.wait(timeout=10)
        finally:
            receiver.release.set()
            receiver.script.clear()

    # -- checks ------------------------------------------------------------------------
    def check(self) -> None:
        """Nothing synced that was not acknowledged; the run log tells what happened."""
        acked = self.acknowledged()
        every_acked = set().union(*acked.values()) if acked else set()
        state = self.project.wh.sql(
            "select record_key, idempotency_key, is_removed from cdp_sync.cdp_sync_state"
        )
        not_applied = [row for row in state if row[1] not in self.receiver.applied]
        assert not not_applied, f"marked synced, never applied: {not_applied[:5]}"
        not_acked = [row for row in state if row[1] not in every_acked]
        assert not not_acked, f"marked synced, never acknowledged: {not_acked[:5]}"
        audits = {
            run_id: (int(accepted), int(batches))
            for run_id, accepted, batches in self.project.wh.sql(
                "select run_id, sum(rows_accepted), count(*) from cdp_sync.cdp_sync_audit "
                "group by run_id"
            )
        }
        for run in self.project.wh.runs(SYNC_KEY):
            run_id = run["run_id"]
            accepted = run["rows_added"] + run["rows_changed"] + run["rows_removed"]
            audit = audits.get(run_id, (0, 0))
            assert accepted == len(acked.get(run_id, ())) == audit[0], (run, audit)
            assert run["batches_sent"] == audit[1], (run, audit)
            if run_id in self.expected_status:
                assert run["status"] == self.expected_status[run_id], run
            else:  # killed: marked when the next run of the sync started
                assert run["status"] in ("running", "interrupted"), run


def rejected_by_destination(record: Mapping[str, Any], run: int) -> str | None:
    digest = hashlib.md5(f"{run}:{record['record_key']}".encode()).hexdigest()
    return "soak: rejected by the destination" if int(digest, 16) % 40 == 0 else None


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"   # closed again: connections are refused


def applied_changes(receiver: Receiver) -> collections.Counter[tuple[str, str, str]]:
    return collections.Counter(
        (record["record_key"], record["operation"],
         json.dumps([record.get("identifiers"), record.get("fields")], sort_keys=True))
        for record in receiver.applied.values()
    )


def retries(receiver: Receiver) -> int:
    attempts = collections.Counter(
        (request["body"]["run_id"], request["headers"].get("Idempotency-Key"))
        for request in receiver.requests
    )
    return sum(count - 1 for count in attempts.values())


def test_twenty_faulted_runs_deliver_every_change_once(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    url, receiver = http_server
    duck_project.destinations["esp"] = {
        "type": "webhook", "url": url, "pii": "allowed", "batch_size": BATCH_SIZE,
        "max_attempts": MAX_ATTEMPTS, "retry_backoff_seconds": 0.01,
        "retry_backoff_max_seconds": 0.05, "timeout_seconds": TIMEOUT, **webhook_env,
    }
    duck_project.add_audience("soak", {"destination": "esp", "mode": "mirror",
                                       "identifiers": ["customer_id", "email"],
                                       "fields": ["first_name", "city"]})
    soak = Soak(duck_project, receiver, url, random.Random(SEED))
    soak.watch()

    # Run 1: the initial load of 10,000 members, killed at batch 12 of 40.
    soak.add_members(AUDIENCE_ROWS, 1)
    soak.publish()
    soak.run_killed(hold_at=12)
    soak.check()
    plan = list(PLAN)
    soak.rng.shuffle(plan)
    for run, kind in enumerate(plan, start=2):
        soak.churn(run)
        soak.publish()
        soak.run_in_process(kind, run)
        soak.check()
    faulted_runs = 1 + len(plan)
    assert faulted_runs == RUNS

    # Clean runs until the destination has caught up (replaying any dead letters).
    catch_up = duck_project.run_one("soak")
    soak.expected_status[catch_up.run_id] = "success"
    if duck_project.wh.sql("select count(*) from cdp_sync.cdp_sync_dead_letter "
                           "where status = 'open'")[0][0]:
        for replayed in duck_project.run(["soak"], replay=True):
            soak.expected_status[replayed.run_id] = "success"
    soak.check()
    final = duck_project.run_one("soak")
    soak.expected_status[final.run_id] = "success"
    assert final.batches_sent == 0, "the destination had not caught up"
    soak.check()

    # The receiver holds exactly the audience, each change applied once.
    store = receiver.store
    assert set(store) == set(soak.members)
    for key, member in soak.members.items():
        assert store[key]["fields"] == {"first_name": member["first_name"],
                                        "city": member["city"]}, key
        assert store[key]["identifiers"]["email"] == member["email"], key
    changes = applied_changes(receiver)
    assert max(changes.values()) == 1, changes.most_common(3)
    state = dict(duck_project.wh.sql(
        "select record_key, idempotency_key from cdp_sync.cdp_sync_state where not is_removed"
    ))
    assert state == {key: record["idempotency_key"] for key, record in store.items()}

    faults = collections.Counter(
        request["action"]["fault"] for request in receiver.requests
        if "fault" in request["action"]
    )
    faults["connection_refused"] = soak.refused_attempts
    faults["rows_rejected"] = sum(
        len(answer.errors or ()) for answer in soak.answers
        if answer.errors and answer.status < 500
    )
    runs = duck_project.wh.runs(SYNC_KEY)
    with capsys.disabled():
        print(
            f"\nfault soak (seed {SEED}): {faulted_runs} faulted runs + "
            f"{len(runs) - faulted_runs} clean, {AUDIENCE_ROWS:,}-member audience, "
            f"{time.monotonic() - started:.1f} s\n"
            f"  faults injected: {sum(faults.values())} "
            f"({', '.join(f'{name} {count}' for name, count in sorted(faults.items()))})\n"
            f"  requests: {len(receiver.requests)}, retries: "
            f"{retries(receiver) + soak.refused_attempts - soak.refused_attempts // MAX_ATTEMPTS}"
            f", runs by status: {dict(collections.Counter(run['status'] for run in runs))}\n"
            f"  row changes delivered: {len(receiver.applied):,} "
            f"(adds/changes/removes applied once each), duplicates suppressed by "
            f"idempotency key: {receiver.duplicates:,}"
        )
