"""Ad-platform customer list: only SHA-256 hashes of normalised email / E.164 phone leave.

Body of each POST::

    {"list_id": ..., "operation": "add" | "remove", "batch_id": ...,
     "members": [{"idempotency_key": ..., "hashed_email": ..., "hashed_phone": ...}]}

Normalisation before hashing follows the ad platforms' customer-match rules: email trimmed
and lower-cased; phone in E.164 (``+`` and digits), with ``default_country_code`` for
numbers written without one. No other column, and no customer id, is sent. A forget batch
(right to be forgotten) is a ``remove`` of the person's hashes, like a mirror removal.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from orchestration.resources.base import (
    BatchResult,
    DestinationResource,
    DestinationSession,
    SyncBatch,
    SyncRecord,
)
from orchestration.resources.http_transport import HttpBatchSender

_NON_DIGITS = re.compile(r"\D")


def normalise_email(raw: Any) -> str | None:
    if raw is None:
        return None
    email = str(raw).strip().lower()
    return email if "@" in email else None


def normalise_phone(raw: Any, default_country_code: str) -> str | None:
    """E.164 (``+8613800138000``) or None when the number cannot be made valid."""
    if raw is None:
        return None
    text = str(raw).strip()
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return None
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        national = digits.removeprefix("0")
        number = default_country_code + national
    return "+" + number if 8 <= len(number) <= 15 else None


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class AdsDestinationResource(DestinationResource):
    """A customer-match list of an ad platform reached over HTTP."""

    destination_type = "ads"
    supports_concurrent_batches = True
    hashed_identifiers = frozenset({"email", "phone"})
    accepted_identifiers = frozenset({"email", "phone"})
    accepts_fields = False

    url: str = Field(description="Endpoint of the customer list (members are POSTed there).")
    list_id: str = Field(description="Identifier of the customer list at the platform.")
    default_country_code: str = Field(
        default="86", description="Calling code for phone numbers written without one."
    )
    timeout_seconds: float = Field(default=10.0, gt=0)
    auth_token_env: str | None = Field(default=None)
    auth_header: str = Field(default="Authorization")
    auth_scheme: str = Field(default="Bearer")
    signing_secret_env: str | None = Field(default=None)

    def open_session(self) -> DestinationSession:
        self.check_env()
        token = self.env_value("auth_token_env")
        sender = HttpBatchSender(
            destination=self.name,
            url=self.url,
            timeout_seconds=self.timeout_seconds,
            retry_policy=self.retry_policy(),
            rate_limiter=self.rate_limiter(),
            auth_header=self.auth_header,
            auth_value=f"{self.auth_scheme} {token}".strip() if token else None,
            signing_secret=self.env_value("signing_secret_env"),
        )
        return AdsSession(sender, list_id=self.list_id, country_code=self.default_country_code)


class AdsSession(DestinationSession):
    def __init__(self, sender: HttpBatchSender, *, list_id: str, country_code: str) -> None:
        self.sender = sender
        self.list_id = list_id
        self.country_code = country_code

    def member(self, record: SyncRecord) -> dict[str, str] | None:
        member = {"idempotency_key": record.idempotency_key}
        email = normalise_email(record.identifiers.get("email"))
        phone = normalise_phone(record.identifiers.get("phone"), self.country_code)
        if email:
            member["hashed_email"] = sha256_hex(email)
        if phone:
            member["hashed_phone"] = sha256_hex(phone)
        return member if len(member) > 1 else None

    def send(self, batch: SyncBatch) -> BatchResult:
        members = {record.idempotency_key: self.member(record) for record in batch.records}
        unmatchable = {key for key, member in members.items() if member is None}
        sendable = [r for r in batch.records if r.idempotency_key not in unmatchable]
        failed = {key: "no valid email or phone to hash" for key in unmatchable}
        if not sendable:
            return BatchResult(accepted=set(), failed=failed)

        def build_body(records: Sequence[SyncRecord]) -> dict[str, Any]:
            return {
                "list_id": self.list_id,
                "operation": "remove" if batch.operation == "delete" else "add",
                "batch_id": batch.batch_id,
                "members": [members[record.idempotency_key] for record in records],
            }

        result = self.sender.post_batch(batch, build_body)
        result.failed.update(failed)
        return result

    def close(self) -> None:
        self.sender.close()
