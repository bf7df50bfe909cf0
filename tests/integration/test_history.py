""" "Who looked at me", complete and safe: newest first in pages, counted, off the event loop, masked, refusals
by code, and a page token nobody can forge; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import event, inspect

from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.gateway.runtime import NodeRuntime, node_principal
from share_gateway.node import Node, start_node
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.history import HistoryLog, HistoryQuery
from share_gateway.store.repositories import Store
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2_grpc
from tests.conftest import ChannelFactory, seed_grants
from tests.integration.conftest import integrate_before_0020
from tests.support import CALLERS, COMPANY, PERSON, entity, field_violations, inquiry, penalty_request, person
from tests.waiting import PATIENCE, wait_until

FLOOD = 10_050
BANK = CALLERS["bank"][0].uri
# What a caller typed as a purpose that the catalog does not know: the subject must never be shown it.
FREE_TEXT = "call 138-0000-0000 or we tell everyone"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def node(request: pytest.FixtureRequest, node_config: NodeConfig) -> AsyncIterator[Node]:
    """The node of tests/conftest.py, and the same node on the real PostgreSQL server."""
    if request.param == "postgresql":
        node_config = dataclasses.replace(node_config, database=request.getfixturevalue("fresh_postgres"))
    started = await start_node(node_config)
    seed_grants(started.gateway.store)
    yield started
    await started.stop(grace=0)


def history_stub(connect: ChannelFactory, caller: str = "person") -> inquiry_pb2_grpc.InquiryServiceAsyncStub:
    return inquiry_pb2_grpc.InquiryServiceStub(connect(caller))


def mine(subject: str = PERSON, **fields: Any) -> inquiry_pb2.GetInquiryHistoryRequest:
    about = person(subject) if subject == PERSON else entity(subject)
    return inquiry_pb2.GetInquiryHistoryRequest(subject=about, purpose="self_inquiry", **fields)


async def integrated(node: Node) -> None:
    """Every appended event has its leaf (history reads the integrated log)."""
    log = node.gateway.store.log

    def integrate_all() -> None:
        while log.pending():
            log.integrate(limit=20_000)

    await asyncio.to_thread(integrate_all)


async def flood_then_bank(node: Node) -> None:
    """A person's many cheap public lookups about PERSON, then one bank inquiry: seeded through the store."""
    runtime = node.gateway.runtime
    looker = Identity(IdentityKind.PERSON, "310104199003074561")
    actor = dataclasses.replace(node_principal(runtime.region), uri=looker.uri)
    subject = Subject(SubjectKind.INDIVIDUAL, PERSON)
    flood = [
        runtime.event(EventKind.INQUIRY, actor, Outcome.ALLOWED, subject=subject, purpose="public_lookup")
        for _ in range(FLOOD)
    ]
    bank = dataclasses.replace(actor, uri=BANK)
    later = runtime.event(EventKind.INQUIRY, bank, Outcome.ALLOWED, subject=subject, purpose="loan_underwriting")
    await asyncio.to_thread(node.gateway.store.append, flood)
    await asyncio.to_thread(node.gateway.store.append, [later])
    await integrated(node)


async def test_a_flood_of_lookups_does_not_hide_a_later_bank_inquiry(node: Node, connect: ChannelFactory) -> None:
    await flood_then_bank(node)
    history = await history_stub(connect).GetInquiryHistory(mine(), timeout=30)
    assert BANK in [e.institution for e in history.entries]
    assert history.entries[0].institution == BANK  # newest first
    assert history.total == FLOOD + 1


async def test_every_entry_is_on_exactly_one_page(node: Node, connect: ChannelFactory) -> None:
    await flood_then_bank(node)
    stub = history_stub(connect)
    leaves: list[int] = []
    token = ""
    pages = 0
    while True:
        page = await stub.GetInquiryHistory(mine(page_size=1000, page_token=token), timeout=30)
        assert page.total == FLOOD + 1
        leaves += [e.leaf_index for e in page.entries]
        pages += 1
        # Activity meanwhile (the node logs each history call) shifts no page.
        token = page.next_page_token
        if not token:
            break
    assert pages == 11
    assert leaves == sorted(leaves, reverse=True)
    assert len(set(leaves)) == len(leaves) == FLOOD + 1


async def test_a_forged_or_altered_page_token_is_invalid_argument(node: Node, connect: ChannelFactory) -> None:
    await flood_then_bank(node)
    stub = history_stub(connect)
    first = await stub.GetInquiryHistory(mine(page_size=10), timeout=30)
    payload, signature = first.next_page_token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    moved = raw.replace(b'"done":false', b'"done":true')
    assert moved != raw
    altered = base64.urlsafe_b64encode(moved).decode().rstrip("=") + "." + signature
    for token in ("not-a-token", altered, first.next_page_token[:-4] + "AAAA"):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetInquiryHistory(mine(page_size=10, page_token=token), timeout=30)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "page_token" in field_violations(raised.value)
    # A token is the reader's own: the same subject's history read in another scope does not take it.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetInquiryHistory(
            mine(page_size=10, page_token=first.next_page_token, scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION),
            timeout=30,
        )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_persons_are_masked_institutions_named_and_refusals_shown_by_code(
    node: Node, connect: ChannelFactory
) -> None:
    await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(penalty_request(), timeout=5)
    # A person looks the company up; the bank asks for a purpose no catalog has, and without consent.
    await inquiry_pb2_grpc.InquiryServiceStub(connect("person")).Inquire(inquiry("public_lookup"), timeout=5)
    bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    for refused in (inquiry(FREE_TEXT), inquiry("loan_underwriting")):
        with pytest.raises(grpc.aio.AioRpcError):
            await bank.Inquire(refused, timeout=5)
    await integrated(node)
    history = await history_stub(connect, "company").GetInquiryHistory(mine(COMPANY), timeout=10)
    assert PERSON not in str(history)
    assert PERSON.encode() not in history.SerializeToString()
    assert FREE_TEXT not in str(history)
    shown = {(e.actor_kind, e.actor_id, e.actor_name, e.purpose, e.outcome, e.reason) for e in history.entries}
    assert shown == {
        ("person", "110105********1238", "", "public_lookup", "allowed", ""),
        ("institution", "91110000MA0000001L", "bank", "", "denied", "INVALID_ARGUMENT"),
        ("institution", "91110000MA0000001L", "bank", "loan_underwriting", "denied", "CONSENT_REQUIRED"),
    }
    assert "sgw://person/110105********1238" in [e.institution for e in history.entries]
    assert history.total == 3


async def test_the_search_runs_off_the_event_loop(node: Node, connect: ChannelFactory) -> None:
    """While the store holds a history search, the node still answers a bystander: the loop is not the one waiting.

    The store is held at the driver (a real statement, paused before it runs); the bystander's inquiry reads
    no history. On the event loop, the held search would hold every call with it until the hold gives up.
    """
    await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(penalty_request(), timeout=5)
    engine = node.gateway.store.database.reader
    held, release = threading.Event(), threading.Event()
    released_in_time: list[bool] = []

    def hold(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "log_entries.subject_id" in statement and not held.is_set():
            held.set()
            released_in_time.append(release.wait(PATIENCE / 4))

    event.listen(engine, "before_cursor_execute", hook := hold)
    try:
        reading = asyncio.ensure_future(history_stub(connect, "company").GetInquiryHistory(mine(COMPANY), timeout=60))
        await asyncio.to_thread(wait_until, held.is_set)
        bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
        answer = await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=60)
        assert len(answer.records) == 1
        release.set()
        await reading
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    assert released_in_time == [True]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0010(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database migrated only as far as revision 0010, the last before the history's index."""
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0010")
    yield database
    database.dispose()


def test_0013_a_database_holding_a_logged_history_upgrades_and_pages_it(database_at_0010: Database) -> None:
    store = Store(database_at_0010)
    runtime = NodeRuntime("110000", SigningKey.generate("share-gateway/node/110000"), store)
    bank = dataclasses.replace(node_principal("110000"), uri=BANK)
    subject = Subject(SubjectKind.INDIVIDUAL, PERSON)
    logged = [runtime.event(EventKind.INQUIRY, bank, Outcome.ALLOWED, subject=subject, purpose="x") for _ in range(5)]
    store.append(logged)
    integrate_before_0020(store.log)
    migrate(database_at_0010)
    indexes = {i["name"] for i in inspect(database_at_0010.writer).get_indexes("log_entries")}
    assert "ix_log_entries_subject_id_leaf_index" in indexes
    query = HistoryQuery("individual", PERSON, "inquiry", logged[0].at - timedelta(days=1), "sgw://person/x", 5)
    assert [leaf for leaf, _, _ in HistoryLog(database_at_0010).page(query, 3, 10)] == [2, 1, 0]
    runtime.executor.shutdown()
