"""The product catalogue orders and events refer to (the same for every seed)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa

from orchestration.generate import text, vocab


@dataclass(frozen=True)
class Catalog:
    sku: pa.Array
    name: pa.Array
    category: pa.Array
    price_cents: np.ndarray

    def __len__(self) -> int:
        return len(self.price_cents)

    def popular(self, u: np.ndarray) -> np.ndarray:
        """Product index for uniforms, skewed so a few products sell most."""
        return np.minimum((u**2.2 * len(self)).astype(np.int64), len(self) - 1)


@cache
def catalog() -> Catalog:
    rng = np.random.default_rng(20_240_101)
    lines, variants = len(vocab.PRODUCT_LINES), len(vocab.PRODUCT_VARIANTS)
    line = np.repeat(np.arange(lines), variants)
    variant = np.tile(np.arange(variants), lines)
    order = rng.permutation(len(line))  # popularity order mixes categories
    line, variant = line[order], variant[order]
    low = np.array([p[2] for p in vocab.PRODUCT_LINES])[line]
    high = np.array([p[3] for p in vocab.PRODUCT_LINES])[line]
    yuan = (low + rng.random(len(line)) * (high - low)).astype(np.int64) // 100
    cents = yuan * 100 - rng.choice([0, 0, 0, 100, 50, 10], len(line))
    number = 10_001 + line * 100 + variant
    return Catalog(
        sku=text.fixed([b"SKU-", text.digits(number, 5)], len(line)),
        name=text.join(
            text.pick([p[0] for p in vocab.PRODUCT_LINES], line),
            text.pick(vocab.PRODUCT_VARIANTS, variant),
        ),
        category=text.pick([p[1] for p in vocab.PRODUCT_LINES], line),
        price_cents=np.maximum(cents, 990),
    )
