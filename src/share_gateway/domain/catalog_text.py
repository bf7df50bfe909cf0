"""The catalog's words for people: titles and descriptions in Chinese and English, and its citations.

A catalog is read by provincial credit centres and by foreign banks' compliance
teams alike, so each purpose, record type and measure may carry a title and a
description in both languages (``title: {zh: 行政处罚, en: Administrative
penalty}``; ``description`` as before, or ``{zh: …, en: …}``). Both keys are
optional: an older catalog keeps its one English description and shows the
entry's name as its title.

A ``legal_basis`` is citations separated by ``"; "``; one this project has not
verified against its source carries ``UNVERIFIED`` (``"… Art. 45 (unverified)"``)
so that nobody reads a pointer to check as a statement of law.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from share_gateway.domain.errors import FieldViolation

__all__ = ["NO_TEXTS", "UNVERIFIED", "Language", "Texts", "citations", "is_unverified", "parse_texts"]

UNVERIFIED = "(unverified"
_SEPARATOR = "; "


class Language(StrEnum):
    """The languages a catalog speaks; English is the default of every view."""

    EN = "en"
    ZH = "zh"


def citations(legal_basis: str) -> tuple[str, ...]:
    """The citations of a ``legal_basis`` text, in order."""
    return tuple(part.strip() for part in legal_basis.split(_SEPARATOR) if part.strip())


def is_unverified(citation: str) -> bool:
    """Whether a citation says it was not verified against its source."""
    return UNVERIFIED in citation


@dataclass(frozen=True, slots=True)
class Texts:
    """An entry's title and description per language; either may be missing in any language."""

    titles: Mapping[Language, str] = field(default_factory=lambda: MappingProxyType({}))
    descriptions: Mapping[Language, str] = field(default_factory=lambda: MappingProxyType({}))

    def title(self, language: Language, name: str) -> str:
        """The title in ``language``, else in English, else the entry's own name."""
        return self.titles.get(language) or self.titles.get(Language.EN) or name

    def description(self, language: Language) -> str:
        """The description in ``language``, else in English, else in any language given, else empty."""
        found = self.descriptions.get(language) or self.descriptions.get(Language.EN)
        return found or next(iter(self.descriptions.values()), "")


NO_TEXTS = Texts()


def parse_texts(entry: Mapping[str, Any], path: str, faults: list[FieldViolation]) -> Texts:
    """The ``title`` and ``description`` of a catalog entry; faults under ``path`` (an English text stays valid)."""
    titles = _languages(entry.get("title"), f"{path}.title", faults, plain_is=None)
    descriptions = _languages(entry.get("description"), f"{path}.description", faults, plain_is=Language.EN)
    return Texts(MappingProxyType(titles), MappingProxyType(descriptions))


def _languages(value: Any, path: str, faults: list[FieldViolation], plain_is: Language | None) -> dict[Language, str]:
    if value is None:
        return {}
    if isinstance(value, str) and plain_is is not None:
        if not value.strip():
            faults.append(FieldViolation(path, "must be non-empty text"))
            return {}
        return {plain_is: value}
    if not isinstance(value, Mapping) or not value:
        shape = "text or " if plain_is is not None else ""
        faults.append(FieldViolation(path, f"must be {shape}a mapping of languages ({', '.join(Language)}) to text"))
        return {}
    found: dict[Language, str] = {}
    for key, text in value.items():
        if key not in {language.value for language in Language}:
            faults.append(FieldViolation(f"{path}.{key}", f"unknown language; one of {', '.join(Language)}"))
        elif not isinstance(text, str) or not text.strip():
            faults.append(FieldViolation(f"{path}.{key}", "must be non-empty text"))
        else:
            found[Language(key)] = text
    return found
