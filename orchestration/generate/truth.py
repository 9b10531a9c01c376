"""truth.person_identifiers: every identifier each generated person was seen with in rows
that staging accepts, in normalised form. Shared identifiers (a family phone, a shop iPad,
junk emails) are listed under every person who used them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generate import identifiers as ids
from orchestration.generate import text
from orchestration.generate.contract import truth_schema
from orchestration.generate.people import World

PERSON_ID_WIDTH = 9


def person_id(people: np.ndarray) -> pa.Array:
    return text.fixed(
        [b"P", text.digits(np.asarray(people) + 1, PERSON_ID_WIDTH)], len(people)
    )


def build(world: World, sightings: ids.Sightings) -> pa.Table:
    person, kind, key = sightings.distinct()
    values = text.by_group(
        kind, lambda code, rows: ids.canonical(world, code, key[rows])
    )
    table = pa.table(
        {
            "person_id": person_id(person),
            "identifier_type": text.pick(ids.IDENTIFIER_TYPES, kind),
            "identifier_value": values,
        }
    )
    return table.cast(truth_schema("person_identifiers"))
