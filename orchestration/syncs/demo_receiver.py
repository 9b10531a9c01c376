"""A local stand-in for an ESP / webhook endpoint, so the demo sends real HTTP batches.

``cdp demo`` starts it (in a thread, on 127.0.0.1 only) for the ``demo_webhook``
destination of destinations.yml; ``cdp sync receiver`` runs it in the foreground for
trying ``cdp sync run`` by hand. It behaves like the destinations the engine is built for:
de-duplicates on each record's idempotency key (also across restarts, from its log),
checks the HMAC signature when a secret is configured, and appends every accepted record
to ``<project>/.cdp/demo_webhook/received.jsonl``. A forget batch (``"forget": true``, right
to be forgotten) removes the people's earlier lines and logs the deletes without identifiers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orchestration.resources.http_transport import SIGNATURE_HEADER, TIMESTAMP_HEADER

DEMO_WEBHOOK = "demo_webhook"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


class DemoReceiver:
    """Accepts JSON batches on ``host:port`` and logs the records it has not seen yet."""

    def __init__(self, host: str, port: int, log_path: Path, secret: str | None = None) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the demo receiver listens on 127.0.0.1 only, not {host!r}")
        self.log_path = log_path
        self.secret = secret
        self.lock = threading.Lock()
        self.seen = self._load_seen(log_path)
        self.accepted = 0
        self.duplicates = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True

    @staticmethod
    def _load_seen(log_path: Path) -> set[str]:
        if not log_path.exists():
            return set()
        with open(log_path) as handle:
            return {json.loads(line)["idempotency_key"] for line in handle if line.strip()}

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def receive(self, headers: Any, body: bytes) -> tuple[int, bytes]:
        if self.secret:
            timestamp = headers.get(TIMESTAMP_HEADER, "")
            expected = "sha256=" + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
            if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
                return 401, b'{"error": "bad signature"}'
        try:
            batch = json.loads(body)
            records = batch["records"]
        except (ValueError, KeyError, TypeError):
            return 400, b'{"error": "expected a JSON object with records"}'
        forget = bool(batch.get("forget"))
        with self.lock:
            fresh = [r for r in records if r.get("idempotency_key") not in self.seen]
            self.duplicates += len(records) - len(fresh)
            self.accepted += len(fresh)
            self.seen.update(record["idempotency_key"] for record in fresh)
            if forget:
                self._forget({str(record.get("record_key")) for record in records})
                fresh = [
                    {key: record.get(key) for key in ("idempotency_key", "record_key",
                                                      "operation")} | {"forget": True}
                    for record in fresh
                ]
            if fresh:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.log_path, "a") as log:
                    log.writelines(
                        json.dumps({"sync": batch.get("sync"), **record}) + "\n"
                        for record in fresh
                    )
        return 200, b"{}"

    def _forget(self, record_keys: set[str]) -> None:
        """Drop the logged records of these people (their forget records stay)."""
        if not self.log_path.exists():
            return
        lines = self.log_path.read_text().splitlines(keepends=True)
        kept = [
            line for line in lines
            if line.strip() and (
                str(json.loads(line).get("record_key")) not in record_keys
                or json.loads(line).get("forget")
            )
        ]
        if len(kept) != len(lines):
            temporary = self.log_path.with_suffix(".tmp")
            temporary.write_text("".join(kept))
            temporary.replace(self.log_path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, payload = receiver.receive(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def serve_forever(self) -> None:
        try:
            self.server.serve_forever(poll_interval=0.2)
        finally:
            self.server.server_close()

    @contextmanager
    def running(self) -> Iterator[DemoReceiver]:
        """Serve in a background thread for the duration of the block."""
        thread = threading.Thread(target=self.server.serve_forever,
                                  kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)


def receiver_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def default_log_path(project_dir: Path) -> Path:
    return project_dir / ".cdp" / DEMO_WEBHOOK / "received.jsonl"
