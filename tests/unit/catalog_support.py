"""The sample catalog as a document, and the tools to mutate it, shared by the catalog loader's tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
import yaml

from share_gateway.domain.catalog_document import parse_catalog
from share_gateway.domain.errors import CatalogInvalid

SAMPLE_TEXT = resources.files("share_gateway").joinpath("catalog/sample.yaml").read_text(encoding="utf-8")

_SAMPLE_DOCUMENT = yaml.safe_load(SAMPLE_TEXT)


def sample_document() -> dict[str, Any]:
    """A private deep copy of the sample as ``yaml.safe_load`` reads it, ready to mutate."""
    assert isinstance(_SAMPLE_DOCUMENT, dict)
    return copy.deepcopy(_SAMPLE_DOCUMENT)


def problems_of(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(CatalogInvalid) as error:
        parse_catalog(document)
    return [(p.field, p.description) for p in error.value.problems]


Mutate = Callable[[dict[str, Any]], None]


def at(document: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = document
    for key in path:
        node = node[key]
    return node


def set_(*path: str | int, value: Any) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        at(document, path[:-1])[path[-1]] = value

    return mutate


def delete(*path: str | int) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        del at(document, path[:-1])[path[-1]]

    return mutate


def append(*path: str | int, value: Any) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        at(document, path).append(value)

    return mutate


def rename(*path: str | int, to: str) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        parent = at(document, path[:-1])
        parent[to] = parent.pop(path[-1])

    return mutate


PENALTY = ("record_types", "administrative_penalty")
