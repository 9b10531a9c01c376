"""One batch being generated: its people, time window, random streams and sightings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from orchestration.generate import contract, messy, text
from orchestration.generate.identifiers import Sightings
from orchestration.generate.people import Profiles, World
from orchestration.generate.streams import stream

DUPLICATE_SHARE = 0.01
BAD_ROW_SHARE = 0.007


@dataclass
class Batch:
    world: World
    number: int
    profiles: Profiles  # everyone active in the batch, sorted by person number
    is_new: np.ndarray
    sightings: Sightings = field(default_factory=Sightings)

    @classmethod
    def start(cls, world: World, number: int) -> Batch:
        people, is_new = world.cohort(number)
        return cls(world, number, world.profiles(people), is_new)

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def window(self) -> tuple[int, int]:
        return self.world.window(self.number)

    def rng(self, purpose: str) -> np.random.Generator:
        return stream(self.world.seed, self.number, purpose)

    def who(self, mask: np.ndarray) -> Profiles:
        """Profiles of the active people matching a mask."""
        return self.profiles.take(np.flatnonzero(mask))

    def times(
        self, rng: np.random.Generator, since: np.ndarray, tail: float = 1.0
    ) -> np.ndarray:
        """Random epoch seconds in the batch window, not before each row's ``since``.
        ``tail`` < 1 skews towards the end of the window (recent activity is denser)."""
        start, end = self.window
        earliest = np.maximum(np.asarray(since, dtype=np.int64), start)
        earliest = np.minimum(earliest, end - 1)
        u = rng.random(len(earliest)) ** tail
        return earliest + (u * (end - earliest)).astype(np.int64)

    def ids(self, prefix: str, count: int, width: int = 9) -> pa.Array:
        """Row ids unique across batches: prefix, 3-digit batch number, sequence."""
        sequence = text.digits(np.arange(1, count + 1), width)
        return text.fixed([f"{prefix}{self.number:03d}", sequence], count)

    def table(
        self, name: str, columns: dict[str, pa.Array], rng: np.random.Generator
    ) -> pa.Table:
        """Assemble a raw table in contract order, stamp ``_loaded_at``, add duplicates."""
        expected = contract.RAW_COLUMNS[name]
        if tuple(columns) != expected:
            raise ValueError(
                f"{name}: columns {tuple(columns)} differ from the contract"
            )
        size = len(next(iter(columns.values())))
        loaded_at = pa.array(
            np.full(
                size, self.world.loaded_at(self.number) * 1_000_000, dtype=np.int64
            ),
            type=pa.int64(),
        ).cast(contract.LOADED_AT_TYPE)
        table = pa.table({**columns, contract.LOADED_AT: loaded_at})
        return messy.add_duplicates(rng, table, DUPLICATE_SHARE)
