"""Redis profile store: one hash per customer, ``<key_prefix><customer_id>``.

An upsert writes the sync's identifiers and fields into the hash (lists and objects as JSON,
nulls remove the field) plus ``_sync:<sync_key>`` = idempotency key and
``_synced_at:<sync_key>``. A
delete (mirror mode) removes exactly those fields; Redis drops a hash left empty, so a
customer held by no sync has no key. Fields are shared by syncs writing the same name.
A forget batch (right to be forgotten) deletes the customer's whole key, whatever syncs
wrote there.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import redis
from pydantic import Field

from orchestration.resources.base import (
    BatchResult,
    DestinationResource,
    DestinationSession,
    RetryPolicy,
    SyncBatch,
    jsonable,
)


def _value(value: Any) -> str | None:
    value = jsonable(value)
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RedisDestinationResource(DestinationResource):
    """A Redis (or Redis-compatible) server used as a low-latency profile store."""

    destination_type = "redis"
    forget_by_key = True

    host: str = Field(default="127.0.0.1")
    port: int = Field(default=6379)
    db: int = Field(default=0)
    password_env: str | None = Field(default=None)
    key_prefix: str = Field(default="cdp:customer:")
    ttl_seconds: int | None = Field(default=None, gt=0)
    socket_timeout_seconds: float = Field(default=5.0, gt=0)

    def open_session(self) -> DestinationSession:
        self.check_env()
        client = redis.Redis(
            host=self.host,
            port=self.port,
            db=self.db,
            password=self.env_value("password_env"),
            socket_timeout=self.socket_timeout_seconds,
            socket_connect_timeout=self.socket_timeout_seconds,
            decode_responses=True,
        )
        return RedisProfileSession(
            client,
            name=self.name,
            key_prefix=self.key_prefix,
            ttl_seconds=self.ttl_seconds,
            policy=self.retry_policy(),
            rate_limiter=self.rate_limiter(),
        )


class RedisProfileSession(DestinationSession):
    def __init__(
        self,
        client: redis.Redis,
        *,
        name: str,
        key_prefix: str,
        ttl_seconds: int | None,
        policy: RetryPolicy,
        rate_limiter: Any,
    ) -> None:
        self.client = client
        self.name = name
        self.key_prefix = key_prefix
        self.ttl_seconds = ttl_seconds
        self.policy = policy
        self.rate_limiter = rate_limiter

    def send(self, batch: SyncBatch) -> BatchResult:
        self.rate_limiter.acquire()
        return self.policy.call(
            self.name,
            lambda: self._apply(batch),
            is_retryable=lambda error: isinstance(
                error, (redis.ConnectionError, redis.TimeoutError)
            ),
        )

    def _apply(self, batch: SyncBatch) -> BatchResult:
        marker = f"_sync:{batch.sync_key}"
        stamp = f"_synced_at:{batch.sync_key}"
        names = list(dict.fromkeys([*batch.identifier_names, *batch.field_names]))
        synced_at = dt.datetime.now(dt.timezone.utc).isoformat()
        pipeline = self.client.pipeline(transaction=False)
        owners: list[str] = []
        for record in batch.records:
            key = self.key_prefix + record.record_key
            if batch.forget:
                pipeline.delete(key)
                owners.append(record.idempotency_key)
                continue
            if batch.operation == "delete":
                pipeline.hdel(key, marker, stamp, *names)
                owners.append(record.idempotency_key)
                continue
            values = {name: _value({**record.fields, **record.identifiers}.get(name))
                      for name in names}
            mapping = {name: value for name, value in values.items() if value is not None}
            mapping[marker] = record.idempotency_key
            mapping[stamp] = synced_at
            pipeline.hset(key, mapping=mapping)
            owners.append(record.idempotency_key)
            empty = [name for name, value in values.items() if value is None]
            if empty:
                pipeline.hdel(key, *empty)
                owners.append(record.idempotency_key)
            if self.ttl_seconds:
                pipeline.expire(key, self.ttl_seconds)
                owners.append(record.idempotency_key)
        outcomes = pipeline.execute(raise_on_error=False)
        failed: dict[str, str] = {}
        for owner, outcome in zip(owners, outcomes, strict=True):
            if isinstance(outcome, (redis.ConnectionError, redis.TimeoutError)):
                raise outcome
            if isinstance(outcome, Exception):
                failed.setdefault(owner, f"redis: {outcome}")
        keys = {record.idempotency_key for record in batch.records}
        return BatchResult(accepted=keys - set(failed), failed=failed)

    def close(self) -> None:
        self.client.close()
