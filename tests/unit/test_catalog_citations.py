"""Every legal basis in the sample catalog is backed by a source DOMAIN.md lists as checked, or says it is not
(issue 12 item 12: "A basis you cannot verify is marked so in the catalog, not presented as fact")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from share_gateway.domain.catalog_text import UNVERIFIED, citations, is_unverified
from tests.unit.catalog_support import sample_document

# DOMAIN.md "Sources checked" (2026-12), with the articles it states for each; None: the source is cited as a
# whole, or by part and item, never by article (Guo Ban Fa [2020] No. 49 has parts and items, not articles).
VERIFIED_SOURCES: dict[str, frozenset[int] | None] = {
    "2025 No. 22": None,
    "NDRC Order No. 36": frozenset({2, 3}),
    "Guo Ban Fa [2020] No. 49": None,
    "SAMR Order No. 44": None,
    # Art. 4 (the penalty record's fields) from DOMAIN.md "Catalog categories"; the rest from "Sources checked".
    "SAMR Order No. 45": frozenset({2, 4, 10, 11, 13}),
    "Fa Shi [2017] No. 7": frozenset({1, 2, 10, 12}),
    # Arts. 20 and 22 from DOMAIN.md "Inquiries and personal data"; the rest from "Sources checked".
    "Credit Reporting Industry Regulation": frozenset({15, 16, 18, 20, 22, 25}),
    "PIPL": frozenset({6, 34}),
    "National Basic Catalog": None,
    # "Power Supply and Consumption Regulations Art. 39 covers late fees and cut-offs, not credit inquiries".
    "Power Supply and Consumption Regulations": frozenset({39}),
}
_ARTICLES = re.compile(r"\bArts?\.\s*([0-9][0-9()]*(?:(?:,\s*|\s+and\s+)[0-9][0-9()]*)*)")


def legal_bases(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``legal_basis`` text of the document, wherever it sits, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "legal_basis" and isinstance(value, str):
                yield here, value
            else:
                yield from legal_bases(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from legal_bases(item, f"{path}[{index}]")


def articles(citation: str) -> set[int]:
    """The article numbers a citation names before its gloss (``Arts. 18 and 20: …`` gives {18, 20})."""
    pinpoint = citation.split(": ", 1)[0]
    found: set[int] = set()
    for match in _ARTICLES.finditer(pinpoint):
        found.update(int(n) for n in re.findall(r"(?<![(0-9])[0-9]+", match.group(1)))
    return found


def unbacked(citation: str) -> str | None:
    """Why a citation is neither backed by a checked source nor marked unverified, or None."""
    if is_unverified(citation):
        return None
    sources = [name for name in VERIFIED_SOURCES if name in citation]
    if not sources:
        return "names no source DOMAIN.md lists as checked"
    allowed = VERIFIED_SOURCES[sources[0]]
    cited = articles(citation)
    if allowed is None and cited:
        return f"cites {sources[0]} by article"
    if allowed is not None and not cited <= allowed:
        return f"cites {sources[0]} Art. {sorted(cited - allowed)}, which DOMAIN.md does not state"
    return None


def test_every_citation_verified_or_marked() -> None:
    """DOMAIN.md "Sources checked" lists what was verified; everything else carries "(unverified" (issue 12 item 12)."""
    faults = [
        (path, citation, reason)
        for path, basis in legal_bases(sample_document())
        for citation in citations(basis)
        if (reason := unbacked(citation)) is not None
    ]
    assert faults == []


@pytest.mark.parametrize(
    ("citation", "backed"),
    [
        ("NDRC Order No. 36 (2025) Art. 2: repairable unless a law says otherwise", True),
        ("Guo Ban Fa [2020] No. 49, part IV items (6) to (8): list grounds", True),
        ("Guo Ban Fa [2020] No. 49 Art. 3: listing", False),  # no articles
        ("Guo Fa [2016] No. 33 Art. 11", False),  # not verified, and not marked
        ("Guo Fa [2016] No. 33, joint discipline (unverified item)", True),
        ("Fa Shi [2017] No. 7 Arts. 1, 2 and 6", False),  # Art. 6 not stated
        ("Credit Reporting Industry Regulation (State Council Decree No. 631, 2013) Arts. 18 and 20: consent", True),
        ("Government Procurement Law Art. 22(1)(5)", False),
        ("Government Procurement Law Art. 22(1)(5) (unverified)", True),
    ],
)
def test_the_citation_check_tells_backed_from_unbacked(citation: str, backed: bool) -> None:
    assert (unbacked(citation) is None) is backed


def test_the_marker_is_the_one_the_catalog_documents() -> None:
    assert UNVERIFIED == "(unverified"
    assert citations("a (unverified); b: c") == ("a (unverified)", "b: c")


def test_the_citations_the_issue_names_are_corrected() -> None:
    """Issue 12 item 12, each point."""
    bases = dict(legal_bases(sample_document()))
    assert "NDRC Order No. 36 (2025, in force 2026-04-01)" in bases["record_types.administrative_penalty.legal_basis"]
    assert "No. 49 Art" not in " ".join(bases.values())
    assert "Power Supply" not in bases["purposes.utility_connection.legal_basis"].split("(unverified")[0]
    for name in ("Fa Gai Cai Jin [2016] No. 1182", "Fa Gai Ban Cai Jin [2019] No. 1", "Guo Fa [2016] No. 33"):
        for basis in bases.values():
            for citation in citations(basis):
                if name in citation:
                    assert is_unverified(citation), citation
