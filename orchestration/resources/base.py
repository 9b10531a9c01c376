"""What every destination resource shares: the batch contract, rate limiting and retries.

The engine (``orchestration.syncs``) hands a destination session one ``SyncBatch`` at a
time and gets back a ``BatchResult`` naming which rows (by idempotency key) the destination
accepted and which it rejected. A session raises ``DestinationError`` when the destination
refused or could not take the batch as a whole (after the retries below).
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar, overload

import pyarrow as pa
from dagster import ConfigurableResource
from pydantic import Field, field_validator
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from typing_extensions import Self

from orchestration.syncs.errors import ConfigError, DestinationError

try:  # a dependency of dagster-dbt; the stdlib encoder below is the fallback
    import orjson
except ImportError:  # pragma: no cover - orjson is installed with dagster-dbt
    orjson = None  # type: ignore[assignment]

Operation = Literal["insert", "upsert", "delete"]
T = TypeVar("T")

# Columns that are raw personal data unless a policy says otherwise (see destinations.yml).
DEFAULT_PII_COLUMNS: tuple[str, ...] = (
    "email",
    "phone",
    "name",
    "first_name",
    "last_name",
    "full_name",
    "birthday",
    "birth_date",
    "date_of_birth",
    "address",
    "street_address",
)


@dataclass(frozen=True)
class SyncRecord:
    """One row change for a destination."""

    record_key: str
    operation: Operation
    idempotency_key: str
    identifiers: Mapping[str, Any]
    fields: Mapping[str, Any] = field(default_factory=dict)


class BatchColumns:
    """The rows of a batch column by column, as the engine reads them from the warehouse.

    ``record_keys`` and ``idempotency_keys`` hold one value per row; the identifier and
    field columns (``names``) come either as an Arrow table (DuckDB hands one over) or as
    Python lists (other engines), and each form is made from the other when first asked
    for: file exports write the Arrow table, webhooks serialise the Python values, and
    nobody builds a ``SyncRecord`` per row unless a destination iterates ``records``.
    """

    def __init__(
        self,
        record_keys: list[str],
        idempotency_keys: list[str],
        names: Sequence[str],
        *,
        arrow: pa.Table | None = None,
        python: Mapping[str, list[Any]] | None = None,
        types: Mapping[str, pa.DataType | None] | None = None,
    ) -> None:
        if (arrow is None) == (python is None):
            raise ValueError("BatchColumns needs exactly one of arrow= and python=")
        self.record_keys = record_keys
        self.idempotency_keys = idempotency_keys
        self.names = tuple(names)
        self._arrow = arrow
        self._python: dict[str, list[Any]] = dict(python or {})
        self._types = dict(types or {})
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.record_keys)

    def values(self, name: str) -> list[Any]:
        """The Python values of column ``name`` (as ``fetchall`` would return them)."""
        with self._lock:
            if name not in self._python:
                assert self._arrow is not None
                self._python[name] = self._arrow.column(name).to_pylist()
            return self._python[name]

    def arrow(self) -> pa.Table:
        """The identifier and field columns as an Arrow table: types from the warehouse
        (``types`` for Python values), else inferred from the values; values Arrow cannot
        hold become JSON text."""
        with self._lock:
            if self._arrow is None:
                self._arrow = pa.table({
                    name: arrow_array(self._python[name], self._types.get(name))
                    for name in self.names
                })
            return self._arrow


class ColumnRecords(Sequence[SyncRecord]):
    """``SyncBatch.records`` of a batch held as ``BatchColumns``: a record is made only
    when asked for, and ``payloads`` gives the webhook shape of every row at once."""

    def __init__(
        self,
        columns: BatchColumns,
        operation: Operation,
        identifier_names: Sequence[str],
        field_names: Sequence[str],
    ) -> None:
        self.columns = columns
        self.operation = operation
        self.identifier_names = tuple(identifier_names)
        self.field_names = tuple(field_names)

    def __len__(self) -> int:
        return len(self.columns)

    @overload
    def __getitem__(self, index: int) -> SyncRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[SyncRecord]: ...

    def __getitem__(self, index: int | slice) -> SyncRecord | list[SyncRecord]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        columns = self.columns
        if index < 0:
            index += len(columns)
        if not 0 <= index < len(columns):
            raise IndexError(index)
        return SyncRecord(
            columns.record_keys[index],
            self.operation,
            columns.idempotency_keys[index],
            {name: columns.values(name)[index] for name in self.identifier_names},
            {name: columns.values(name)[index] for name in self.field_names},
        )

    def __iter__(self) -> Iterator[SyncRecord]:
        columns = self.columns
        identifiers = [(name, columns.values(name)) for name in self.identifier_names]
        fields = [(name, columns.values(name)) for name in self.field_names]
        operation = self.operation
        for index, (record_key, key) in enumerate(
            zip(columns.record_keys, columns.idempotency_keys, strict=True)
        ):
            yield SyncRecord(
                record_key, operation, key,
                {name: values[index] for name, values in identifiers},
                {name: values[index] for name, values in fields},
            )

    def payloads(self) -> list[dict[str, Any]]:
        """``record_payload`` of every row, built column-wise (filling the per-row dicts
        one column at a time is about twice as fast as ``dict(zip(...))`` per row)."""
        columns = self.columns
        count = len(columns)
        identifiers: list[dict[str, Any]] = [{} for _ in range(count)]
        fields: list[dict[str, Any]] = [{} for _ in range(count)]
        for rows, names in ((identifiers, self.identifier_names), (fields, self.field_names)):
            for name in names:
                for row, value in zip(rows, columns.values(name), strict=True):
                    row[name] = value
        operation = self.operation
        return [
            {
                "idempotency_key": key,
                "record_key": record_key,
                "operation": operation,
                "identifiers": identifier_values,
                "fields": field_values,
            }
            for key, record_key, identifier_values, field_values in zip(
                columns.idempotency_keys, columns.record_keys, identifiers, fields, strict=True
            )
        ]


@dataclass(frozen=True)
class SyncBatch:
    """Rows of one operation sent together; ``batch_id`` is stable for the same rows.

    ``records`` is a sequence of ``SyncRecord``; for batches the engine reads from the
    warehouse it is a ``ColumnRecords`` over ``columns``, which destinations able to work
    on whole columns (file export, webhook) use directly."""

    sync_key: str
    audience: str
    destination: str
    run_id: str
    batch_number: int
    operation: Operation
    records: Sequence[SyncRecord]
    field_names: tuple[str, ...] = ()
    identifier_names: tuple[str, ...] = ()
    # A delete batch of people erased under a deletion request (right to be forgotten):
    # the destination removes everything it holds for them, not only this sync's fields.
    forget: bool = False

    @property
    def columns(self) -> BatchColumns | None:
        """The rows column by column, when the batch was read that way."""
        records = self.records
        return records.columns if isinstance(records, ColumnRecords) else None

    @functools.cached_property
    def idempotency_keys(self) -> list[str]:
        columns = self.columns
        if columns is not None:
            return columns.idempotency_keys
        return [record.idempotency_key for record in self.records]

    @functools.cached_property
    def batch_id(self) -> str:
        keys = "".join(self.idempotency_keys)
        return hashlib.sha256(keys.encode()).hexdigest()[:32]


@dataclass
class BatchResult:
    """Which rows of a batch the destination took (keys are idempotency keys)."""

    accepted: set[str]
    failed: dict[str, str] = field(default_factory=dict)
    # SHA-256 of the bytes that left (request bodies, written files), for the audit; when
    # None the engine hashes the batch's canonical JSON.
    payload_sha256: str | None = None

    @classmethod
    def all_accepted(cls, batch: SyncBatch, payload_sha256: str | None = None) -> BatchResult:
        return cls(accepted=set(batch.idempotency_keys), payload_sha256=payload_sha256)


@dataclass(frozen=True)
class RunSummary:
    """What the engine tells a session when a run ends (the file export writes a manifest)."""

    sync_key: str
    audience: str
    destination: str
    run_id: str
    mode: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime
    counts: Mapping[str, int]


class DestinationSession:
    """An open connection to a destination for one run. Subclasses implement ``send``."""

    def send(self, batch: SyncBatch) -> BatchResult:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self, summary: RunSummary) -> None:
        """Called once after the last batch of a run (also after a failed run)."""

    def close(self) -> None:
        """Release clients."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DestinationResource(ConfigurableResource):
    """Settings shared by every destination; one subclass per kind of external system."""

    name: str = Field(description="Name of the destination in destinations.yml.")
    pii: str = Field(
        default="forbidden",
        description="allowed | forbidden: whether raw PII (email, phone, names, birthday) "
        "may be sent here.",
    )
    batch_size: int = Field(default=500, gt=0, description="Rows per batch.")
    rate_limit_per_second: float | None = Field(
        default=None, gt=0, description="Client-side limit of batches (requests) per second."
    )
    max_attempts: int = Field(default=5, ge=1, description="Attempts per batch, first included.")
    retry_backoff_seconds: float = Field(
        default=0.5, ge=0, description="First wait of the exponential backoff between attempts."
    )
    retry_backoff_max_seconds: float = Field(default=30.0, ge=0)
    max_concurrent_batches: int = Field(
        default=1, ge=1, le=32,
        description="Batches sent at once (file, webhook, ads): while one is out, the next "
        "ones leave and the answered ones are committed. 1 sends one after another.",
    )
    config_file: str = Field(
        default="destinations.yml", description="File the settings came from (for errors)."
    )

    destination_type: ClassVar[str] = ""
    supports_delete: ClassVar[bool] = True
    # Identifier columns the destination hashes before they leave (so never raw PII).
    hashed_identifiers: ClassVar[frozenset[str]] = frozenset()
    # Identifier columns the destination needs at least one of; empty means any.
    accepted_identifiers: ClassVar[frozenset[str]] = frozenset()
    accepts_fields: ClassVar[bool] = True
    # Right to be forgotten (see orchestration/syncs/forget.py): a destination that erases
    # a person by record key alone receives no other identifier in forget batches; one that
    # keeps a history (file exports) receives forget batches also for people a mirror
    # removal already deleted, so it can scrub them from what it wrote before.
    forget_by_key: ClassVar[bool] = False
    keeps_history: ClassVar[bool] = False
    # Whether a session may be sent several batches at once from different threads.
    supports_concurrent_batches: ClassVar[bool] = False

    @field_validator("max_concurrent_batches")
    @classmethod
    def _concurrency_supported(cls, value: int) -> int:
        if value > 1 and not cls.supports_concurrent_batches:
            raise ValueError(
                f"a {cls.destination_type} destination takes one batch at a time; "
                "expected 1 (the default)"
            )
        return value

    @field_validator("pii")
    @classmethod
    def _pii_choice(cls, value: str) -> str:
        if value not in ("allowed", "forbidden"):
            raise ValueError(f"expected allowed or forbidden, got {value!r}")
        return value

    def required_env(self) -> dict[str, str]:
        """Settings naming an environment variable: ``{setting key: variable name}``.

        Every setting whose name ends in ``_env`` names a variable holding a secret.
        """
        settings = {key: getattr(self, key) for key in type(self).model_fields}
        return {
            key: value
            for key, value in settings.items()
            if key.endswith("_env") and isinstance(value, str) and value
        }

    def check_env(self) -> None:
        """Fail fast, naming destination and key, when a secret's variable is not set."""
        for key, variable in self.required_env().items():
            if variable and os.environ.get(variable) is None:
                raise ConfigError(
                    self.config_file,
                    f"destinations.{self.name}.{key}",
                    f"environment variable {variable} is not set "
                    f"(destination {self.name!r} reads its secret from it)",
                )

    def env_value(self, key: str) -> str | None:
        """The value of the variable named by setting ``key`` (None when unset in config)."""
        variable = self.required_env().get(key)
        if not variable:
            return None
        self.check_env()
        return os.environ[variable]

    def open_session(self) -> DestinationSession:  # pragma: no cover - interface
        raise NotImplementedError

    def fields_sent(self, batch: SyncBatch) -> list[str]:
        """What leaves for this batch, for the audit (hashed columns say so)."""
        names = dict.fromkeys([*batch.identifier_names, *batch.field_names])
        return [
            f"sha256({name})" if name in self.hashed_identifiers else name
            for name in names
            if name in self.hashed_identifiers or not self.hashed_identifiers
        ]

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_seconds=self.retry_backoff_seconds,
            backoff_max_seconds=self.retry_backoff_max_seconds,
        )

    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(self.rate_limit_per_second)


class RateLimiter:
    """Token bucket without burst: at most ``per_second`` acquisitions per second."""

    def __init__(self, per_second: float | None) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next_at = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until the next slot; returns the seconds waited."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            wait = max(0.0, self._next_at - now)
            self._next_at = max(now, self._next_at) + self._interval
        if wait:
            time.sleep(wait)
        return wait


class RetryableError(Exception):
    """A failure worth another attempt; ``retry_after`` (seconds) overrides the backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    max_retry_after_seconds: float = 300.0

    def call(
        self,
        destination: str,
        attempt: Callable[[], T],
        *,
        is_retryable: Callable[[BaseException], bool],
        before_attempt: Callable[[], object] | None = None,
    ) -> T:
        """Run ``attempt`` with exponential backoff, honouring ``RetryableError.retry_after``."""
        backoff = wait_exponential_jitter(
            multiplier=self.backoff_seconds,
            max=self.backoff_max_seconds,
            jitter=self.backoff_seconds / 2,
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, RetryableError) and error.retry_after is not None:
                return min(error.retry_after, self.max_retry_after_seconds)
            return backoff(state)

        def one_attempt() -> T:
            if before_attempt is not None:
                before_attempt()
            return attempt()

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(is_retryable),
            reraise=True,
        )
        try:
            return retrying(one_attempt)
        except DestinationError:
            raise
        except Exception as error:
            if is_retryable(error):
                raise DestinationError(
                    destination,
                    f"gave up after {self.max_attempts} attempts: {error}",
                ) from error
            raise


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of a warehouse value (timestamps as ISO 8601 UTC)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat() + "Z"
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(item) for item in value]
    return str(value)


def _json_default(value: Any) -> Any:
    converted = jsonable(value)
    if converted is value:
        raise TypeError(f"cannot serialise {type(value).__name__} as JSON")
    return converted


_ORJSON_OPTIONS = 0 if orjson is None else (
    # dates and times, dataclasses and numpy values go through jsonable, as with json
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """Compact JSON bytes of warehouse values (timestamps ISO 8601 UTC, NaN as null).

    orjson when installed (it writes NaN as null itself), with ``jsonable`` for the types
    JSON lacks; the stdlib C encoder otherwise, and for what orjson refuses (integers past
    64 bits, non-string keys). A 100k-row batch serialises in well under a second."""
    if orjson is not None:
        options = _ORJSON_OPTIONS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
        try:
            return orjson.dumps(value, default=_json_default, option=options)
        except orjson.JSONEncodeError:
            pass
    try:
        text = json.dumps(value, default=_json_default, allow_nan=False, sort_keys=sort_keys,
                          separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        text = json.dumps(jsonable(value), sort_keys=sort_keys, separators=(",", ":"),
                          ensure_ascii=False)
    return text.encode()


def canonical_json(value: Any) -> bytes:
    """Stable JSON bytes (sorted keys, no spaces) for hashing and signing."""
    return dumps(value, sort_keys=True)


def arrow_array(values: Sequence[Any], kind: pa.DataType | None = None) -> pa.Array:
    """An Arrow array of Python values, of type ``kind`` when given and the values fit it,
    else inferred; values Arrow cannot hold in one type (mixed types, UUIDs...) become JSON
    text."""
    if kind is not None:
        try:
            return pa.array(values, type=kind)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(
            [None if value is None else json.dumps(jsonable(value)) for value in values],
            type=pa.string(),
        )


def record_payload(record: SyncRecord) -> dict[str, Any]:
    """The JSON shape of a record in webhook bodies (values serialised by ``dumps``)."""
    return {
        "idempotency_key": record.idempotency_key,
        "record_key": record.record_key,
        "operation": record.operation,
        "identifiers": dict(record.identifiers),
        "fields": dict(record.fields),
    }


def batch_sha256(batch: SyncBatch) -> str:
    """SHA-256 of a batch's canonical JSON: names, then one row per record (the audit)."""
    document = {
        "sync": batch.sync_key,
        "operation": batch.operation,
        "batch_id": batch.batch_id,
        "identifier_names": list(batch.identifier_names),
        "field_names": list(batch.field_names),
        # Records hold identifiers and fields in name order (see the engine).
        "rows": [
            [
                record.idempotency_key,
                record.record_key,
                list(record.identifiers.values()),
                list(record.fields.values()),
            ]
            for record in batch.records
        ],
    }
    return hashlib.sha256(dumps(document)).hexdigest()
