"""The catalog as people read it, in Chinese or English: what ``catalog show`` prints and the demo opens with."""

from __future__ import annotations

from rich.console import Group

from share_gateway.cli.console import line, table
from share_gateway.cli.messages import say
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_text import Language, citations, is_unverified


def _unverified(legal_basis: str) -> int:
    return sum(1 for citation in citations(legal_basis) if is_unverified(citation))


def catalog_view(catalog: Catalog, language: Language) -> Group:
    """Purposes, record types and measures with their titles in ``language``; names stay the catalog's own."""
    yes, no, anyone = say("yes", language), say("no", language), say("any", language)
    purposes = table(
        [say(k, language) for k in ("purpose", "title", "requester_kinds", "consent", "reaches", "unverified")],
        [
            (
                p.name,
                p.texts.title(language, p.name),
                ", ".join(sorted(p.requester_kinds)),
                yes if p.consent_required else no,
                ", ".join(sorted(p.reaches)),
                _unverified(p.legal_basis),
            )
            for p in catalog.purposes.values()
        ],
    )
    headers = ("record_type", "title", "category", "disclosure", "fields", "severities", "providers", "document_kinds")
    record_types = table(
        [say(k, language) for k in headers],
        [
            (
                t.name,
                t.texts.title(language, t.name),
                t.category.value,
                t.disclosure.value,
                len(t.fields),
                ", ".join(t.severity_periods) or "—",
                ", ".join(sorted(t.provision.providers)) or anyone,
                ", ".join(sorted(t.provision.document_kinds)) or anyone,
            )
            for t in catalog.record_types.values()
        ],
    )
    measures = table(
        [say(k, language) for k in ("measure", "title", "description", "unverified")],
        [
            (m.name, m.texts.title(language, m.name), m.texts.description(language), _unverified(m.legal_basis))
            for m in catalog.measures.values()
        ],
    )
    heading = f"{say('catalog_version', language, version=catalog.version)} — {catalog.authority}"
    return Group(line(heading), line(""), purposes, line(""), record_types, line(""), measures)
