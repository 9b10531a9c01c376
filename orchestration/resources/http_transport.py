"""JSON-over-HTTP batch delivery shared by the webhook and ad-platform destinations.

One POST per batch: ``Authorization`` from an environment variable, an HMAC-SHA256
signature of ``<timestamp>.<body>`` in ``X-CDP-Signature``, and an ``Idempotency-Key``
header (the batch id; each row also carries its own key in the body). Retries (tenacity)
on timeouts, connection errors, 5xx and unreadable 2xx bodies; 429 waits ``Retry-After``,
and so does every other request of the session (batches sent at once share one client,
one keep-alive connection pool, the rate limit and the pause).

What the destination answers with 2xx:
- an empty body, or JSON without ``errors``/``accepted``: every row accepted;
- ``{"errors": [{"idempotency_key": ..., "error": ...}]}``: those rows rejected, the rest taken;
- ``{"accepted": [keys...]}``: only those rows taken, the others rejected as unacknowledged.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import hmac
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from orchestration.resources.base import (
    BatchResult,
    RateLimiter,
    RetryableError,
    RetryPolicy,
    SyncBatch,
    SyncRecord,
    dumps,
)
from orchestration.syncs.errors import DestinationError

SIGNATURE_HEADER = "X-CDP-Signature"
TIMESTAMP_HEADER = "X-CDP-Timestamp"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA bundle takes ~80 ms)."""
    return ssl.create_default_context()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value a receiver recomputes to authenticate a request."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _MalformedResponse(RetryableError):
    pass


class HttpBatchSender:
    """Posts JSON batches to one URL with auth, signature, rate limit and retries."""

    def __init__(
        self,
        *,
        destination: str,
        url: str,
        timeout_seconds: float,
        retry_policy: RetryPolicy,
        rate_limiter: RateLimiter,
        auth_header: str = "Authorization",
        auth_value: str | None = None,
        signing_secret: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.destination = destination
        self.url = url
        self._retry_policy = retry_policy
        self._rate_limiter = rate_limiter
        self._signing_secret = signing_secret
        headers = {"Content-Type": "application/json", "User-Agent": "warehouse-cdp-sync/0.1"}
        if auth_value:
            headers[auth_header] = auth_value
        headers.update(extra_headers or {})
        self._client = httpx.Client(
            timeout=timeout_seconds, headers=headers, verify=_tls_context()
        )
        self.requests_sent = 0
        self._lock = threading.Lock()
        self._paused_until = 0.0

    def close(self) -> None:
        self._client.close()

    def post_batch(
        self,
        batch: SyncBatch,
        build_body: Callable[[Sequence[SyncRecord]], Mapping[str, Any]],
    ) -> BatchResult:
        """POST the batch; map the answer to accepted / failed idempotency keys.

        A 400/422 answer listing per-row errors rejected the whole request: the listed rows
        are recorded as failed and the other rows are posted once more without them.
        Thread-safe: a session may post several batches at once.
        """
        digest = hashlib.sha256()
        result = self._post(batch, None, build_body, digest)
        if result.resend:
            remaining = [r for r in batch.records if r.idempotency_key in result.resend]
            second = self._post(batch, remaining, build_body, digest)
            for key in second.resend:
                second.failed.setdefault(key, "rejected together with other rows")
            result.accepted |= second.accepted
            result.failed.update(second.failed)
        return BatchResult(accepted=result.accepted, failed=result.failed,
                           payload_sha256=digest.hexdigest())

    def _post(
        self,
        batch: SyncBatch,
        records: list[SyncRecord] | None,
        build_body: Callable[[Sequence[SyncRecord]], Mapping[str, Any]],
        digest: Any,
    ) -> _Answer:
        """POST ``records`` (None: the whole batch, without a record per row made)."""
        if records is None or len(records) == len(batch.records):
            content = dumps(build_body(batch.records))
            keys = batch.idempotency_keys
            request_key = batch.batch_id
        else:
            content = dumps(build_body(records))
            keys = [record.idempotency_key for record in records]
            request_key = hashlib.sha256("".join(keys).encode()).hexdigest()[:32]
        digest.update(content)

        def attempt() -> _Answer:
            headers = {"Idempotency-Key": request_key}
            if self._signing_secret:
                timestamp = str(int(time.time()))
                headers[TIMESTAMP_HEADER] = timestamp
                headers[SIGNATURE_HEADER] = sign(self._signing_secret, timestamp, content)
            with self._lock:
                self.requests_sent += 1
            response = self._client.post(self.url, content=content, headers=headers)
            return self._interpret(response, keys)

        return self._retry_policy.call(
            self.destination,
            attempt,
            is_retryable=_is_retryable,
            before_attempt=self._before_attempt,
        )

    def _before_attempt(self) -> None:
        """Wait out a ``Retry-After`` another request of this session was given (the
        destination asked the client, not one request, to slow down), then the rate
        limit."""
        while True:
            with self._lock:
                wait = self._paused_until - time.monotonic()
            if wait <= 0:
                break
            time.sleep(wait)
        self._rate_limiter.acquire()

    def _pause(self, seconds: float | None) -> None:
        if seconds:
            with self._lock:
                self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _interpret(self, response: httpx.Response, keys: list[str]) -> _Answer:
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            self._pause(min(retry_after, self._retry_policy.max_retry_after_seconds)
                        if retry_after is not None else None)
            raise RetryableError(f"HTTP 429 from {self.url}", retry_after=retry_after)
        if status >= 500:
            raise RetryableError(f"HTTP {status} from {self.url}: {response.text[:200]}")
        if status >= 400:
            per_row = {
                key: error for key, error in _row_errors(_json_or_none(response)).items()
                if key in keys
            }
            if per_row and status in (400, 422):
                return _Answer(
                    accepted=set(),
                    failed=per_row,
                    resend={key for key in keys if key not in per_row},
                )
            raise DestinationError(
                self.destination,
                f"HTTP {status} from {self.url}: {response.text[:300]}",
                rows_rejected=status in (400, 409, 413, 422),
            )
        if not response.content.strip():
            return _Answer(accepted=set(keys))
        try:
            answer = response.json()
        except ValueError as error:
            raise _MalformedResponse(
                f"malformed JSON in HTTP {status} answer from {self.url}: {error}"
            ) from error
        if not isinstance(answer, dict):
            raise _MalformedResponse(f"unexpected JSON answer from {self.url}: {answer!r:.200}")
        failed = {key: error for key, error in _row_errors(answer).items() if key in keys}
        if isinstance(answer.get("accepted"), list):
            accepted = {str(key) for key in answer["accepted"]}.intersection(keys)
            for key in keys:
                if key not in accepted and key not in failed:
                    failed[key] = "not acknowledged by the destination"
        else:
            accepted = {key for key in keys if key not in failed}
        return _Answer(accepted=accepted - set(failed), failed=failed)


@dataclass
class _Answer:
    accepted: set[str]
    failed: dict[str, str] = field(default_factory=dict)
    resend: set[str] = field(default_factory=set)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _row_errors(answer: Any) -> dict[str, str]:
    if not isinstance(answer, dict) or not isinstance(answer.get("errors"), list):
        return {}
    errors: dict[str, str] = {}
    for item in answer["errors"]:
        if isinstance(item, dict) and item.get("idempotency_key") is not None:
            errors[str(item["idempotency_key"])] = str(item.get("error") or "rejected")
    return errors


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, (RetryableError, httpx.TimeoutException, httpx.TransportError))
