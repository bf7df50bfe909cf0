"""Realistic events for the log benchmarks: what ``InquiryDesk`` logs for a bank's loan-underwriting inquiry."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from importlib import resources

import yaml

from bench.inquiry_path import BANK, REGION
from bench.log.support import check
from share_gateway.domain.canonical import canonical_json
from share_gateway.domain.errors import Citation
from share_gateway.domain.events import DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.synthetic import Population

PURPOSE = "loan_underwriting"
RECORDS_PER_INQUIRY = 5


@dataclasses.dataclass(frozen=True)
class _RecordType:
    name: str
    subject_kinds: frozenset[SubjectKind]
    fields: tuple[str, ...]
    citation: Citation


class InquiryEvents:
    """Events of allowed inquiries as ``InquiryDesk`` logs them.

    A bank asks about a subject for loan underwriting and is disclosed five
    records, each with the fields the sample catalog deems necessary for the
    purpose, citing the purpose's legal basis and each record type's.
    """

    def __init__(self, seed: int = 1, subjects: int = 256) -> None:
        self._rng = random.Random(seed)
        text = (resources.files("share_gateway.catalog") / "sample.yaml").read_text(encoding="utf-8")
        catalog = yaml.safe_load(text)
        self._purpose = Citation(f"purpose/{PURPOSE}", catalog["purposes"][PURPOSE]["legal_basis"])
        self._types = [
            _RecordType(
                name,
                frozenset(SubjectKind(kind) for kind in spec["subject_kinds"]),
                tuple(spec["necessity"][PURPOSE]),
                Citation(f"record_type/{name}", spec["legal_basis"]),
            )
            for name, spec in catalog["record_types"].items()
            if "subject_kinds" in spec and PURPOSE in spec.get("necessity", {})
        ]
        population = Population(seed=seed, today=date.today())
        self._subjects = [Subject(s.kind, s.identifier) for s in population.subjects(subjects, regions=[REGION])]
        self._templates: list[tuple[Event, bytes, bytes]] = []

    def _id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def event(self) -> Event:
        subject = self._rng.choice(self._subjects)
        eligible = [t for t in self._types if subject.kind in t.subject_kinds]
        chosen = [self._rng.choice(eligible) for _ in range(RECORDS_PER_INQUIRY)]
        return Event(
            event_id=self._id(),
            kind=EventKind.INQUIRY,
            at=datetime.now(UTC),
            node=REGION,
            actor=BANK.uri,
            outcome=Outcome.ALLOWED,
            subject=subject,
            purpose=PURPOSE,
            citations=tuple(dict.fromkeys([self._purpose, *(t.citation for t in chosen)])),
            records=tuple(DisclosedRecord(self._id(), t.name, REGION, t.fields) for t in chosen),
            details={"consent_id": "5f3c0e9d2b7a41c8a6e4d1f09b8c7a62", "consent_signer": "requester"},
        )

    def events(self, count: int) -> list[Event]:
        """``count`` new events with their canonical bytes computed, as the inquiry path has them when it appends.

        (It signs the receipt over those bytes first; ``Event`` caches them.)
        """
        events = [self.event() for _ in range(count)]
        for event in events:
            event.canonical_bytes()
        return events

    def _template(self, n: int, templates: int = 64) -> tuple[Event, bytes, bytes]:
        while len(self._templates) < templates:
            event = self.event()
            self._templates.append((event, event.canonical_bytes(), event.event_id.encode()))
        return self._templates[n % templates]

    def bodies(self, count: int) -> Iterator[bytes]:
        """Canonical bytes of ``count`` distinct events, fast: a template's bytes with another event id."""
        for n in range(count):
            _, body, old_id = self._template(n)
            yield body.replace(old_id, self._id().encode(), 1)

    def clones(self, count: int) -> Iterator[Event]:
        """``count`` distinct events, fast: a template with another id, its canonical bytes set by substitution.

        Encoding an event costs ~70 us here; substituting the id in the
        template's bytes gives the same bytes (checked for each template).
        """
        for n in range(count):
            template, body, old_id = self._template(n)
            event_id = self._id()
            event = dataclasses.replace(template, event_id=event_id)
            event.__dict__["_bytes"] = body.replace(old_id, event_id.encode(), 1)  # Event caches its bytes there
            if n < len(self._templates):
                check(canonical_json(event.to_json()) == event.canonical_bytes(), "a cloned event's bytes differ")
            yield event
