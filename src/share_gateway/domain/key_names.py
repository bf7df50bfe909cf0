"""The signed-note key names of a region's keys: part of what a checkpoint says, so a pure rule.

Kept apart from ``config`` (which loads pydantic) so that clients naming a node's key start fast.
"""

from __future__ import annotations


def node_key_name(region: str) -> str:
    """The signed-note key name of a node's Ed25519 key."""
    return f"share-gateway/node/{region}"


def witness_key_name(region: str) -> str:
    """The key name a node cosigns its peers' checkpoints under: never its log key's name."""
    return f"share-gateway/witness/{region}"
