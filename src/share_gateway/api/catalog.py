"""CatalogService: the published catalog, readable by anyone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from share_gateway.api.errors import handles_errors
from share_gateway.catalog import SignedCatalog
from share_gateway.domain.catalog import RecordType
from share_gateway.domain.catalog_text import Language, Texts
from share_gateway.domain.periods import windows
from share_gateway.v1 import catalog_pb2, catalog_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def texts_to_wire(texts: Texts) -> list[catalog_pb2.LocalisedText]:
    """One entry per language the catalog gives a title or a description in."""
    given = [language for language in Language if language in texts.titles or language in texts.descriptions]
    return [
        catalog_pb2.LocalisedText(
            language=language.value,
            title=texts.titles.get(language, ""),
            description=texts.descriptions.get(language, ""),
        )
        for language in given
    ]


def periods_to_wire(record_type: RecordType) -> catalog_pb2.RecordPeriods:
    """A type's periods as the catalog states them, with what each severity makes of publication and sharing."""
    rule = record_type.periods
    minor = rule.minor_publication
    message = catalog_pb2.RecordPeriods(
        starts=rule.starts.value,
        starts_source=rule.starts_source,
        sharing_after_publication_days=rule.sharing_after_publication_days,
        maximum_source=rule.maximum_source,
        minor_published=minor is not None,
        minor_publication_days=0 if minor is None else minor.maximum_days,
        minor_publication_reason="" if minor is None else minor.reason,
        withdrawal_source=rule.withdrawal_source,
    )
    if rule.maximum_days is not None:
        message.maximum_days = rule.maximum_days
    if rule.withdrawal_working_days is not None:
        message.withdrawal_working_days = rule.withdrawal_working_days
    for severity, period in record_type.severity_periods.items():
        published, shared = windows(rule, severity, period.maximum_days)
        message.severities.add(
            severity=severity,
            minimum_days=period.minimum_days,
            maximum_days=period.maximum_days,
            publication_maximum_days=published,
            sharing_maximum_days=shared,
        )
    return message


def catalog_to_wire(signed: SignedCatalog) -> catalog_pb2.GetCatalogResponse:
    catalog = signed.catalog
    return catalog_pb2.GetCatalogResponse(
        version=catalog.version,
        digest=signed.digest,
        signed_document=signed.document,
        purposes=[
            catalog_pb2.Purpose(
                name=p.name,
                legal_basis=p.legal_basis,
                requester_kinds=sorted(p.requester_kinds),
                consent_required=p.consent_required,
                texts=texts_to_wire(p.texts),
            )
            for p in catalog.purposes.values()
        ],
        record_types=[
            catalog_pb2.RecordType(
                name=t.name,
                category=t.category.value,
                disclosure=t.disclosure.value,
                legal_basis=t.legal_basis,
                subject_kinds=sorted(k.value for k in t.subject_kinds),
                fields=[
                    catalog_pb2.FieldDefinition(name=f.name, type=f.type.value, required=f.required)
                    for f in t.fields.values()
                ],
                necessity=[
                    catalog_pb2.Necessity(purpose=purpose, fields=sorted(fields))
                    for purpose, fields in t.necessity.items()
                ],
                texts=texts_to_wire(t.texts),
                providers=sorted(t.provision.providers),
                document_kinds=sorted(t.provision.document_kinds),
                document_number_field=t.provision.document_number_field or "",
                periods=periods_to_wire(t),
            )
            for t in catalog.record_types.values()
        ],
    )


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, in_force: Callable[[], SignedCatalog]) -> None:
        # The catalog in force, read on each call: a newer one installed at a running node is published at once.
        self._in_force = in_force
        self._cached: tuple[SignedCatalog, catalog_pb2.GetCatalogResponse] | None = None

    @handles_errors
    async def GetCatalog(
        self, request: catalog_pb2.GetCatalogRequest, context: Context
    ) -> catalog_pb2.GetCatalogResponse:
        signed = self._in_force()
        if self._cached is None or self._cached[0] is not signed:
            self._cached = (signed, catalog_to_wire(signed))
        return self._cached[1]
