"""Activation throughput: a local webhook receiver and sync configurations for benchmarks.

``receiver()`` serves 127.0.0.1 from another process (so the receiver does not compete
with the engine for the GIL) and yields its URL. ``write_destinations`` writes a
destinations.yml with ``bench_files`` (CSV + Parquet parts, 2 parts written at once) and
``bench_webhook`` (4 batches out at once);
``audience_manifest`` gives a one-audience manifest whose syncs use them, and
``timed_sync`` runs one of those syncs through ``orchestration.syncs.run_syncs``.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from orchestration.resources.warehouse import WarehouseResource
from orchestration.syncs.config import AUDIENCE_META_KEY, audience_name
from orchestration.syncs.engine import SyncResult
from orchestration.syncs.runner import run_syncs

FILES = "bench_files"
WEBHOOK = "bench_webhook"
FILE_BATCH_ROWS = 50_000
WEBHOOK_BATCH_ROWS = 2_000
# Batches out at once (destinations.yml max_concurrent_batches): while the receiver parses
# one batch, the engine reads, writes ahead and commits the others.
FILE_CONCURRENT_BATCHES = 2
WEBHOOK_CONCURRENT_BATCHES = 4


def serve(port_queue: Any) -> None:
    """A receiver that parses each batch and accepts every row (runs in a child process).

    It parses with orjson when installed (about 4x faster than json: 2,000 records take
    ~5 ms instead of ~20 ms), so on a 2-core machine it leaves the CPU to the engine."""
    try:
        from orjson import loads
    except ImportError:  # pragma: no cover - orjson is installed with dagster-dbt
        loads = json.loads

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = 200 if body.get("records") else 400
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


@contextmanager
def receiver(path: str = "/bench") -> Iterator[str]:
    """Serve ``serve`` on 127.0.0.1 in a child process; yields ``http://127.0.0.1:<port><path>``."""
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{queue.get(timeout=30)}{path}"
    finally:
        process.terminate()
        process.join(timeout=10)


def write_destinations(folder: Path, url: str) -> Path:
    """destinations.yml in ``folder``: ``bench_files`` (exports under folder/exports) and
    ``bench_webhook`` (``url``), both PII-allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "destinations.yml"
    path.write_text(yaml.safe_dump({
        "destinations": {
            FILES: {"type": "file", "path": "exports", "formats": ["csv", "parquet"],
                    "pii": "allowed", "batch_size": FILE_BATCH_ROWS,
                    "max_concurrent_batches": FILE_CONCURRENT_BATCHES},
            WEBHOOK: {"type": "webhook", "url": url, "pii": "allowed",
                      "batch_size": WEBHOOK_BATCH_ROWS,
                      "max_concurrent_batches": WEBHOOK_CONCURRENT_BATCHES},
        },
        "policies": {"complaint_suppression_hours": 1},
    }))
    return path


def audience_manifest(
    node: Mapping[str, Any],
    identifiers: Sequence[str],
    fields: Sequence[str],
    mode: str = "mirror",
) -> dict[str, Any]:
    """A manifest holding only ``node`` (a dbt model node of an audience), its syncs
    replaced by one sync to each bench destination (no channel: no consent check)."""
    bench_node = copy.deepcopy(dict(node))
    sync = {"mode": mode, "identifiers": list(identifiers), "fields": list(fields)}
    config = bench_node.setdefault("config", {})
    config["meta"] = {**(config.get("meta") or {}), AUDIENCE_META_KEY: {"syncs": [
        {"destination": FILES, **sync},
        {"destination": WEBHOOK, **sync},
    ]}}
    bench_node.pop("meta", None)
    return {"nodes": {bench_node["unique_id"]: bench_node}}


def sync_key(manifest: Mapping[str, Any], destination: str) -> str:
    (node,) = manifest["nodes"].values()
    return f"{audience_name(node['name'])}__{destination}"


@dataclass(frozen=True)
class TimedSync:
    result: SyncResult
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.result.rows_sent / self.seconds if self.seconds else 0.0


def timed_sync(
    manifest: Mapping[str, Any],
    destination: str,
    destinations_file: Path,
    warehouse: WarehouseResource,
) -> TimedSync:
    """Run the manifest's sync to ``destination`` once, wall-clock timed."""
    started = time.perf_counter()
    (result,) = run_syncs(
        [sync_key(manifest, destination)], manifest=manifest,
        destinations_file=destinations_file, warehouse=warehouse,
        project_dir=destinations_file.parent,
    )
    return TimedSync(result, time.perf_counter() - started)
