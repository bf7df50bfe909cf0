"""Records loaded in bulk for scale tests and benchmarks (``share-gateway seed``), each as a submission makes it.

Every record is authorised, admitted, sealed and logged exactly as ``RecordRegistry.submit`` does, by a provider
the catalog names for its type; only the writing differs: thousands of records and their events per transaction,
through ``store.bulk`` (COPY on PostgreSQL). Records of nationally shared types are not loaded: they would owe
deliveries to every peer, and a load for a scale test must not flood the federation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from share_gateway.crypto.disclosure import seal_record
from share_gateway.domain.errors import Citation, Refused
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.policy import Principal
from share_gateway.domain.records import RecordDraft, admit_record
from share_gateway.gateway.registry import RecordRegistry
from share_gateway.gateway.runtime import record_ref
from share_gateway.store import bulk


@dataclass
class Seeder:
    """Loads drafts into one node's database, ``batch`` records per transaction."""

    registry: RecordRegistry
    # The institutions that submit: for each record type, the first the policy lets submit it.
    providers: Sequence[Principal]
    batch: int = 10_000
    _authorised: dict[str, tuple[Principal, Citation]] = field(default_factory=dict)

    def loadable(self, draft: RecordDraft) -> bool:
        """Whether ``draft``'s type is one a bulk load takes (not shared nationwide)."""
        return not self.registry.catalog.catalog.record_types[draft.record_type].shared_nationwide

    def load(self, drafts: Iterable[RecordDraft], prefix: str) -> int:
        """Load ``drafts`` (request ids ``prefix-<n>``); the number of records written."""
        written = 0
        pending: list[bulk.Submission] = []
        for draft in drafts:
            pending.append(self._submission(draft, f"{prefix}-{written + len(pending)}"))
            if len(pending) >= self.batch:
                written += self._write(pending)
                pending = []
        return written + self._write(pending)

    def _write(self, submissions: list[bulk.Submission]) -> int:
        self.registry.runtime.store.write(lambda tx: bulk.load(tx, submissions))
        return len(submissions)

    def _provider(self, record_type: str) -> tuple[Principal, Citation]:
        """The provider that submits ``record_type`` and the citation it submits under (looked up once a type)."""
        if record_type not in self._authorised:
            self._authorised[record_type] = self._authorise(record_type)
        return self._authorised[record_type]

    def _authorise(self, record_type: str) -> tuple[Principal, Citation]:
        runtime = self.registry.runtime
        refusals: list[str] = []
        for provider in self.providers:
            try:
                return provider, self.registry.policy.authorise_submission(provider, record_type, runtime.clock())
            except Refused as refused:
                refusals.append(str(refused))
        raise ValueError(f"no provider may submit {record_type}: {'; '.join(refusals)}")

    def _submission(self, draft: RecordDraft, request_id: str) -> bulk.Submission:
        runtime = self.registry.runtime
        catalog = self.registry.catalog.catalog
        provider, citation = self._provider(draft.record_type)
        now = runtime.clock()
        record = admit_record(
            catalog,
            draft,
            record_id=str(uuid.uuid4()),
            origin_region=runtime.region,
            submitted_by=provider.uri,
            now=now,
        )
        sealed = seal_record(record, runtime.signing_key, pad_to=len(catalog.record_types[record.record_type].fields))
        event = runtime.event(
            EventKind.RECORD_SUBMITTED,
            provider,
            Outcome.ALLOWED,
            subject=record.subject,
            citations=(citation,),
            records=(record_ref(record, tuple(sorted(record.fields))),),
            details={"request_id": request_id},
        )
        return record, sealed, f"{provider.uri}#{request_id}", event
