"""Event search: the form's fields as ``SearchEvents`` filters, one page of one region's log at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from share_gateway.domain.events import EventKind, Outcome, summarise
from share_gateway.v1 import compliance_pb2

PAGE_SIZE = 50
LARGEST_PAGE = 500
FILTERS = ("actor", "subject", "purpose", "outcome", "kind", "since", "until")
KINDS = tuple(k.value for k in EventKind)
OUTCOMES = tuple(o.value for o in Outcome)


@dataclass(frozen=True)
class Row:
    leaf_index: int
    at: str
    kind: str
    actor: str
    subject: str
    purpose: str
    outcome: str
    redacted: bool


@dataclass
class Query:
    """What the form asked for, as typed (shown back in the form), and what in it is wrong."""

    values: dict[str, str]
    node: int = 0
    page_size: int = PAGE_SIZE
    page_token: str = ""
    shown_before: int = 0
    # How many events match in all: counted by the node on the first page, carried by the later pages' links.
    matching: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, params: dict[str, str], nodes: int) -> Query:
        values = {name: params.get(name, "").strip() for name in FILTERS}
        query = cls(values, page_token=params.get("page", ""))
        try:
            query.node = int(params.get("node", "0") or 0)
            query.shown_before = max(int(params.get("shown", "0") or 0), 0)
            query.matching = max(int(params["matching"]), 0) if params.get("matching") else None
            query.page_size = min(max(int(params.get("size", PAGE_SIZE) or PAGE_SIZE), 1), LARGEST_PAGE)
        except ValueError:
            query.errors["node"] = "not a number"
        if not 0 <= query.node < nodes:
            query.errors["node"] = "no such node"
        for name in ("since", "until"):
            if values[name]:
                try:
                    date.fromisoformat(values[name])
                except ValueError:
                    query.errors[name] = "not a date (YYYY-MM-DD)"
        if values["outcome"] and values["outcome"] not in OUTCOMES:
            query.errors["outcome"] = "not an outcome"
        if values["kind"] and values["kind"] not in KINDS:
            query.errors["kind"] = "not a kind of event"
        return query

    @property
    def asked(self) -> bool:
        return any(self.values.values())

    def wire(self) -> compliance_pb2.EventFilter:
        v = self.values
        wire = compliance_pb2.EventFilter(
            actor=v["actor"],
            subject_identifier=v["subject"],
            purpose=v["purpose"],
            outcome=v["outcome"],
            kind=v["kind"],
        )
        for name in ("since", "until"):
            if v[name]:
                getattr(wire, name).FromDatetime(
                    datetime.combine(date.fromisoformat(v[name]), datetime.min.time(), UTC)
                )
        return wire


def rows(events: list[compliance_pb2.LoggedEvent]) -> list[Row]:
    found = []
    for logged in events:
        s = summarise(logged.event)
        found.append(
            Row(
                logged.leaf_index,
                s.at.strftime("%Y-%m-%d %H:%M:%S"),
                s.kind,
                s.actor,
                s.subject_id or "",
                s.purpose,
                s.outcome,
                logged.redacted,
            )
        )
    return found
