"""Deterministic randomness.

Two kinds of randomness, both a pure function of the seed:

* ``stream(seed, batch, name)`` — a numpy Generator for one table/purpose of one batch.
  Naming streams keeps tables independent: changing how orders are drawn does not
  change web events.
* ``uniform(seed, salt, keys)`` — counter-based (hash) uniforms for *person attributes*
  and identifier values. They depend only on the key (a person number, an identifier
  key), so any subset of people can be rebuilt in any batch without generating the rest.
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def stream(seed: int, batch: int, name: str) -> np.random.Generator:
    """A generator for one named purpose of one batch."""
    sequence = np.random.SeedSequence([seed, batch, zlib.crc32(name.encode())])
    return np.random.Generator(np.random.PCG64(sequence))


def _salt(seed: int, salt: str) -> np.uint64:
    digest = hashlib.blake2b(f"{seed}:{salt}".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def _splitmix(values: np.ndarray) -> np.ndarray:
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def hash64(seed: int, salt: str, keys: np.ndarray) -> np.ndarray:
    """64 well-mixed bits per key (uint64), a pure function of seed, salt and key."""
    keys = np.asarray(keys).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        return _splitmix(_splitmix(keys ^ _salt(seed, salt)))


def uniform(seed: int, salt: str, keys: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1), one per key."""
    return (hash64(seed, salt, keys) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def categorical(u: np.ndarray, weights: tuple[float, ...] | list[float]) -> np.ndarray:
    """Turn uniforms into category indices with the given relative weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    cumulative /= cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1)


def choose(
    rng: np.random.Generator, size: int, weights: tuple[float, ...] | list[float]
) -> np.ndarray:
    """Category indices drawn from a stream."""
    return categorical(rng.random(size), weights)
