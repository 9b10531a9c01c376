"""File export destination: CSV and/or Parquet parts plus a JSON manifest per run.

Layout under ``path`` (relative paths are relative to the destinations file)::

    <path>/<sync_key>/parts/<operation>-<batch_id>.csv|.parquet
    <path>/<sync_key>/manifests/<run_id>.json
    <path>/<sync_key>/manifest.json          # the latest run's manifest

Every file is written to a temporary name in the same folder, flushed, fsynced and renamed,
so a reader never sees half a file. A part's name is derived from the idempotency keys of
its rows: a batch re-sent after a crash replaces the identical file instead of adding one.
Each part carries ``_operation`` and ``_idempotency_key`` columns; consumers apply parts in
manifest order.

Right to be forgotten: a forget batch writes ``forget-<batch_id>`` parts holding only
``_operation`` (``delete``), ``_idempotency_key``, ``_record_key`` and ``_forget`` (true),
then rewrites every earlier part of the sync without the forgotten people's rows and brings
the manifests' ``sha256`` / ``rows`` of the rewritten parts up to date (``scrubbed: true``).
Both steps are idempotent, so a forget batch re-sent after a crash completes the scrub.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pydantic import Field, field_validator

from orchestration.resources.base import (
    BatchResult,
    DestinationResource,
    DestinationSession,
    RunSummary,
    SyncBatch,
    arrow_array,
    jsonable,
)


def atomic_write(
    target: Path, write: Callable[[Path], None], *, fsynced: bool = False
) -> None:
    """Call ``write`` on a temporary path beside ``target``, fsync (unless ``write`` did,
    ``fsynced``), then rename over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        write(temporary_path)
        if not fsynced:
            with open(temporary_path, "rb+") as written:
                os.fsync(written.fileno())
        os.replace(temporary_path, target)
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def atomic_write_bytes(target: Path, content: bytes | memoryview) -> None:
    """``atomic_write`` of ``content``: written and fsynced through one open handle."""
    def write(path: Path) -> None:
        with open(path, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(target, write, fsynced=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileDestinationResource(DestinationResource):
    """Delta files on a local or mounted file system."""

    destination_type = "file"
    forget_by_key = True
    keeps_history = True
    supports_concurrent_batches = True

    path: str = Field(description="Folder receiving the exports.")
    formats: list[str] = Field(
        default_factory=lambda: ["csv", "parquet"], description="csv and/or parquet."
    )
    base_dir: str | None = Field(
        default=None, description="Folder relative paths start from (the config file's)."
    )

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, formats: list[str]) -> list[str]:
        unknown = [name for name in formats if name not in ("csv", "parquet")]
        if unknown or not formats:
            raise ValueError(f"expected a non-empty list of csv / parquet, got {formats}")
        return formats

    def export_root(self) -> Path:
        root = Path(self.path)
        if not root.is_absolute() and self.base_dir:
            root = Path(self.base_dir) / root
        return root

    def open_session(self) -> DestinationSession:
        return FileExportSession(self.export_root(), list(self.formats), self.rate_limiter())


class FileExportSession(DestinationSession):
    def __init__(self, root: Path, formats: list[str], rate_limiter: Any) -> None:
        self.root = root
        self.formats = formats or ["csv"]
        self.rate_limiter = rate_limiter
        self.parts: list[dict[str, Any]] = []
        self.columns: list[str] = []

    def send(self, batch: SyncBatch) -> BatchResult:
        self.rate_limiter.acquire()
        folder = self.root / batch.sync_key / "parts"
        table = self._forget_table(batch) if batch.forget else self._table(batch)
        if not batch.forget or not self.columns:
            self.columns = table.column_names
        prefix = "forget" if batch.forget else batch.operation
        digest = hashlib.sha256()
        for file_format in self.formats:
            target = folder / f"{prefix}-{batch.batch_id}.{file_format}"
            reused = target.exists()
            if reused:
                file_sha256 = sha256_file(target)
            else:
                # Encoded once in memory: the digest comes from the bytes written, so the
                # part is not read back from disk to hash it.
                content = _encode(table, file_format)
                atomic_write_bytes(target, content)
                file_sha256 = hashlib.sha256(content).hexdigest()
            digest.update(file_sha256.encode())
            self.parts.append({
                "path": str(target.relative_to(self.root / batch.sync_key)),
                "format": file_format,
                "operation": batch.operation,
                "batch_number": batch.batch_number,
                "rows": table.num_rows,
                "sha256": file_sha256,
                "reused_from_earlier_attempt": reused,
                **({"forget": True} if batch.forget else {}),
            })
        if batch.forget:
            scrub_parts(self.root / batch.sync_key,
                        {record.record_key for record in batch.records})
        return BatchResult.all_accepted(batch, payload_sha256=digest.hexdigest())

    def finish(self, summary: RunSummary) -> None:
        manifest = {
            "sync": summary.sync_key,
            "audience": summary.audience,
            "destination": summary.destination,
            "run_id": summary.run_id,
            "mode": summary.mode,
            "status": summary.status,
            "started_at": jsonable(summary.started_at),
            "finished_at": jsonable(summary.finished_at),
            "written_at": jsonable(dt.datetime.now(dt.timezone.utc)),
            "counts": dict(summary.counts),
            "columns": self.columns,
            # batches sent at once finish in any order; consumers apply parts in this order
            "files": sorted(self.parts, key=lambda part: part["batch_number"]),
        }
        content = json.dumps(manifest, indent=2, sort_keys=True).encode()
        folder = self.root / summary.sync_key
        for target in (folder / "manifests" / f"{summary.run_id}.json", folder / "manifest.json"):
            atomic_write(target, lambda path: path.write_bytes(content))

    @staticmethod
    def _forget_table(batch: SyncBatch) -> pa.Table:
        """Only what a consumer needs to delete the people: no identifier, no field."""
        return pa.table({
            "_operation": pa.array(["delete"] * len(batch.records), type=pa.string()),
            "_idempotency_key": pa.array([r.idempotency_key for r in batch.records],
                                         type=pa.string()),
            "_record_key": pa.array([r.record_key for r in batch.records], type=pa.string()),
            "_forget": pa.array([True] * len(batch.records), type=pa.bool_()),
        })

    @staticmethod
    def _table(batch: SyncBatch) -> pa.Table:
        names = list(dict.fromkeys([*batch.identifier_names, *batch.field_names]))
        count = len(batch.records)
        columns = batch.columns
        if columns is not None:
            # Column-wise from the warehouse: no per-row Python work.
            data = columns.arrow()
            return pa.table({
                "_operation": pa.array([batch.operation] * count, type=pa.string()),
                "_idempotency_key": pa.array(columns.idempotency_keys, type=pa.string()),
                "_record_key": pa.array(columns.record_keys, type=pa.string()),
                **{name: _widened(data.column(name)) for name in names},
            })
        values: dict[str, list[Any]] = {
            "_operation": [record.operation for record in batch.records],
            "_idempotency_key": [record.idempotency_key for record in batch.records],
            "_record_key": [record.record_key for record in batch.records],
        }
        for name in names:
            values[name] = [
                record.identifiers[name] if name in record.identifiers
                else record.fields.get(name)
                for record in batch.records
            ]
        return pa.table({name: arrow_array(column) for name, column in values.items()})


def _widened(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Warehouse types as Arrow infers them from Python values, so every part of a sync
    has one schema: integers as int64, floats as float64, text as string."""
    kind = column.type
    if pa.types.is_integer(kind) and kind != pa.uint64():
        return column.cast(pa.int64())
    if pa.types.is_floating(kind):
        return column.cast(pa.float64())
    if pa.types.is_large_string(kind) or str(kind) == "string_view":
        return column.cast(pa.string())
    return column


def scrub_parts(sync_folder: Path, record_keys: set[str]) -> list[Path]:
    """Rewrite the sync's parts (not its forget parts) without rows of ``record_keys``, then
    refresh the manifests listing them; returns the rewritten parts."""
    rewritten: list[Path] = []
    wanted = pa.array(sorted(record_keys), type=pa.string())
    for part in sorted((sync_folder / "parts").glob("*")):
        file_format = part.suffix.lstrip(".")
        if part.name.startswith(("forget-", ".")) or file_format not in ("csv", "parquet"):
            continue
        table = _read_part(part, file_format)
        if "_record_key" not in table.column_names:
            continue
        keys = pc.cast(table.column("_record_key"), pa.string())
        hit = pc.fill_null(pc.is_in(keys, value_set=wanted), False)
        if not pc.any(hit).as_py():
            continue
        kept = table.filter(pc.invert(hit))
        atomic_write(part, lambda path, t=kept, f=file_format: _write(t, path, f))
        rewritten.append(part)
    refresh_manifests(sync_folder)
    return rewritten


def refresh_manifests(sync_folder: Path) -> None:
    """Bring each manifest's sha256 and rows of a part rewritten since up to date."""
    digests: dict[Path, str] = {}
    manifests = [*sorted((sync_folder / "manifests").glob("*.json")),
                 sync_folder / "manifest.json"]
    for manifest_path in manifests:
        if not manifest_path.exists():
            continue
        manifest = json.loads(manifest_path.read_text())
        changed = False
        for entry in manifest.get("files", []):
            part = sync_folder / entry["path"]
            if not part.exists():
                continue
            if part not in digests:
                digests[part] = sha256_file(part)
            if digests[part] != entry.get("sha256"):
                entry["sha256"] = digests[part]
                entry["rows"] = _read_part(part, entry["format"]).num_rows
                entry["scrubbed"] = True
                changed = True
        if changed:
            content = json.dumps(manifest, indent=2, sort_keys=True).encode()
            atomic_write(manifest_path, lambda path, c=content: path.write_bytes(c))


def _read_part(path: Path, file_format: str) -> pa.Table:
    if file_format == "parquet":
        return pq.read_table(path)
    names = pa_csv.open_csv(path).schema.names
    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    ))


def _encode(table: pa.Table, file_format: str) -> memoryview:
    """The bytes ``_write`` would write for ``table``."""
    sink = pa.BufferOutputStream()
    _write(table, sink, file_format)
    return memoryview(sink.getvalue())


def _write(table: pa.Table, path: Path | pa.NativeFile, file_format: str) -> None:
    if file_format == "parquet":
        pq.write_table(table, path)
        return
    flat = pa.table({
        name: (
            pa.array(
                [None if value is None else json.dumps(jsonable(value))
                 for value in column.to_pylist()],
                type=pa.string(),
            )
            if pa.types.is_nested(column.type) else column
        )
        for name, column in zip(table.column_names, table.columns, strict=True)
    })
    pa_csv.write_csv(flat, path)
