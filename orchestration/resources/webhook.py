"""Webhook / ESP / SMS API destination: JSON batches over HTTP.

Body of each POST::

    {"sync": ..., "audience": ..., "destination": ..., "run_id": ..., "batch_id": ...,
     "batch_number": 1, "operation": "upsert" | "insert" | "delete",
     "records": [{"idempotency_key": ..., "record_key": ..., "operation": ...,
                  "identifiers": {...}, "fields": {...}}]}

Receivers de-duplicate on each record's ``idempotency_key`` (stable for one row change), so
a batch re-sent after a crash or a retry is applied once.

Right to be forgotten: a ``delete`` batch with ``"forget": true`` names people erased under
a deletion request (identifiers as last synced, so the receiver can find them). The
receiver deletes everything it holds for them, keeping no copy of the request's identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from orchestration.resources.base import (
    BatchResult,
    ColumnRecords,
    DestinationResource,
    DestinationSession,
    SyncBatch,
    SyncRecord,
    record_payload,
)
from orchestration.resources.http_transport import HttpBatchSender


class WebhookDestinationResource(DestinationResource):
    """An HTTP endpoint taking JSON batches (ESP, SMS gateway, internal service)."""

    destination_type = "webhook"
    supports_concurrent_batches = True

    url: str = Field(description="Endpoint receiving POSTed batches.")
    timeout_seconds: float = Field(default=10.0, gt=0)
    auth_token_env: str | None = Field(
        default=None, description="Environment variable holding the bearer token."
    )
    auth_header: str = Field(default="Authorization")
    auth_scheme: str = Field(default="Bearer", description="Prefix of the auth header value.")
    signing_secret_env: str | None = Field(
        default=None, description="Environment variable holding the HMAC-SHA256 secret."
    )

    def open_session(self) -> DestinationSession:
        self.check_env()
        token = self.env_value("auth_token_env")
        auth_value = f"{self.auth_scheme} {token}".strip() if token else None
        sender = HttpBatchSender(
            destination=self.name,
            url=self.url,
            timeout_seconds=self.timeout_seconds,
            retry_policy=self.retry_policy(),
            rate_limiter=self.rate_limiter(),
            auth_header=self.auth_header,
            auth_value=auth_value,
            signing_secret=self.env_value("signing_secret_env"),
        )
        return WebhookSession(sender)


class WebhookSession(DestinationSession):
    def __init__(self, sender: HttpBatchSender) -> None:
        self.sender = sender

    def send(self, batch: SyncBatch) -> BatchResult:
        def build_body(records: Sequence[SyncRecord]) -> dict[str, Any]:
            body: dict[str, Any] = {
                "sync": batch.sync_key,
                "audience": batch.audience,
                "destination": batch.destination,
                "run_id": batch.run_id,
                "batch_id": batch.batch_id,
                "batch_number": batch.batch_number,
                "operation": batch.operation,
            }
            if batch.forget:
                body["forget"] = True
            body["records"] = (
                records.payloads() if isinstance(records, ColumnRecords)
                else [record_payload(record) for record in records]
            )
            return body

        return self.sender.post_batch(batch, build_body)

    def close(self) -> None:
        self.sender.close()
