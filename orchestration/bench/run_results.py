"""Where a ``dbt build`` spends its time: seconds per layer and the slowest nodes.

A node's layer is the folder under ``models/`` of the model it belongs to: a model's own
path, a test's (generic, singular or unit) first model it depends on, or for a singular
test on no model its name's ``<layer>__`` prefix. Seeds, snapshots, hooks and exposures
are layers of their own. Seconds are dbt's ``execution_time`` per node; with
several threads their sum exceeds the build's wall-clock time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LAYERS = ("staging", "identity", "marts", "audiences", "bi")
TEST_TYPES = ("test", "unit_test")


@dataclass
class LayerTime:
    models_s: float = 0.0
    tests_s: float = 0.0
    other_s: float = 0.0
    nodes: int = 0

    @property
    def total_s(self) -> float:
        return self.models_s + self.tests_s + self.other_s

    def as_dict(self) -> dict[str, float | int]:
        return {"s": round(self.total_s, 2), "models_s": round(self.models_s, 2),
                "tests_s": round(self.tests_s, 2), "nodes": self.nodes}


@dataclass
class BuildProfile:
    layers: dict[str, LayerTime] = field(default_factory=dict)
    slowest: list[tuple[str, str, float]] = field(default_factory=list)  # id, layer, seconds
    node_seconds: dict[str, float] = field(default_factory=dict)  # unique_id -> seconds
    failures: list[str] = field(default_factory=list)
    threads: int | None = None  # dbt threads of the run (its args)

    def seconds(self, unique_id: str) -> float:
        return self.node_seconds.get(unique_id, 0.0)

    def model_seconds(self, name: str) -> float:
        """Seconds of the model called ``name`` (any package)."""
        return sum(
            seconds for unique_id, seconds in self.node_seconds.items()
            if unique_id.startswith("model.") and unique_id.split(".")[-1] == name
        )

    def layers_dict(self) -> dict[str, dict[str, float | int]]:
        return {name: layer.as_dict() for name, layer in self.layers.items()}

    def slowest_dict(self) -> list[dict[str, Any]]:
        return [{"node": unique_id, "layer": layer, "s": round(seconds, 2)}
                for unique_id, layer, seconds in self.slowest]


def _path_layer(path: str) -> str | None:
    parts = path.replace("\\", "/").split("/")
    if len(parts) > 1 and parts[0] == "models":
        return parts[1]
    if parts[0] in ("seeds", "snapshots"):
        return parts[0]
    return None


def _node(manifest: Mapping[str, Any], unique_id: str) -> Mapping[str, Any] | None:
    for section in ("nodes", "unit_tests", "sources"):
        node = (manifest.get(section) or {}).get(unique_id)
        if node is not None:
            return node
    return None


def node_layer(manifest: Mapping[str, Any], unique_id: str) -> str:
    """The layer a run_results node belongs to (see the module docstring)."""
    resource_type = unique_id.split(".", 1)[0]
    if resource_type == "operation":
        return "hooks"
    if resource_type == "exposure":
        return "exposures"
    node = _node(manifest, unique_id)
    if node is None:
        return "other"
    if resource_type in TEST_TYPES:
        parents = [
            parent for parent in
            [node.get("attached_node"), *((node.get("depends_on") or {}).get("nodes") or [])]
            if parent and parent.startswith(("model.", "snapshot.", "seed."))
        ]
        for parent in parents:
            layer = node_layer(manifest, parent)
            if layer != "other":
                return layer
        prefix = str(node.get("name") or "").split("__", 1)[0]
        if prefix in LAYERS:  # a singular test on no model, named <layer>__<what>
            return prefix
    return _path_layer(str(node.get("original_file_path") or "")) or "other"


def profile_build(
    run_results: Mapping[str, Any], manifest: Mapping[str, Any], top: int = 5
) -> BuildProfile:
    """Seconds per layer (models, tests, other) and the ``top`` slowest nodes."""
    profile = BuildProfile({name: LayerTime() for name in LAYERS})
    threads = (run_results.get("args") or {}).get("threads")
    profile.threads = int(threads) if threads is not None else None
    ranked: list[tuple[str, str, float]] = []
    for result in run_results.get("results") or []:
        unique_id = result["unique_id"]
        seconds = float(result.get("execution_time") or 0.0)
        layer = node_layer(manifest, unique_id)
        bucket = profile.layers.setdefault(layer, LayerTime())
        kind = unique_id.split(".", 1)[0]
        if kind == "model":
            bucket.models_s += seconds
        elif kind in TEST_TYPES:
            bucket.tests_s += seconds
        else:
            bucket.other_s += seconds
        bucket.nodes += 1
        profile.node_seconds[unique_id] = seconds
        ranked.append((unique_id, layer, seconds))
        if str(result.get("status")) in ("error", "fail", "runtime error"):
            profile.failures.append(f"{unique_id}: {result.get('message')}")
    profile.slowest = sorted(ranked, key=lambda item: -item[2])[:top]
    return profile
