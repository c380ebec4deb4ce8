"""Where each Redis read model keeps its checkpoint and its ready mark.

Every Redis model lives under one root, `{prefix}{namespace}{projection}:`, where the
namespace is empty for the live model, `rebuild:` for a rebuild's copy beside it, and
`replay:{name}:` for a replay. Under that root:

| key | type | content |
|---|---|---|
| `checkpoint` | string | the last event applied, `tx-position` |
| `ready` | string | present once the model has caught up with the log |

The projector daemon writes both, the reads check both, and a rebuild's swap moves them
with the rest; this module is the one place their names are spelled, so the writer and
the readers cannot drift apart.
"""

from __future__ import annotations

__all__ = [
    "CHECKPOINT",
    "READY",
    "REBUILD_NAMESPACE",
    "checkpoint_key",
    "model_root",
    "ready_key",
    "redis_checkpoint_key",
    "replay_namespace",
]

CHECKPOINT = "checkpoint"
READY = "ready"
REBUILD_NAMESPACE = "rebuild:"


def replay_namespace(name: str) -> str:
    return f"replay:{name}:"


def model_root(prefix: str, projection: str, namespace: str = "") -> str:
    return f"{prefix}{namespace}{projection}:"


def checkpoint_key(root: str) -> str:
    return root + CHECKPOINT


def ready_key(root: str) -> str:
    return root + READY


def redis_checkpoint_key(prefix: str, projection: str) -> str:
    """The live model's checkpoint key."""
    return checkpoint_key(model_root(prefix, projection))
