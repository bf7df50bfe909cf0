"""CatalogService: the published catalog, readable by anyone."""

from __future__ import annotations

from typing import Any

import grpc

from share_gateway.api.errors import handles_errors
from share_gateway.catalog import SignedCatalog
from share_gateway.domain.catalog_text import Language, Texts
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
            )
            for t in catalog.record_types.values()
        ],
    )


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, signed: SignedCatalog) -> None:
        self._response = catalog_to_wire(signed)

    @handles_errors
    async def GetCatalog(
        self, request: catalog_pb2.GetCatalogRequest, context: Context
    ) -> catalog_pb2.GetCatalogResponse:
        return self._response
