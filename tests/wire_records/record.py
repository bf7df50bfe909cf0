"""Record one instance of every message a peer sends over PeerService, as the nodes of this commit send it.

Run by hand when a peer message's format changes (see tests/wire_records/README.md)::

    .venv/bin/python -m tests.wire_records.record v1

A fresh three-region development federation runs in this process; what goes over PeerService is captured at
the servicer, exactly as received (request) and answered (response), and written as protobuf bytes under
``tests/data/wire/<version>/`` with ``index.json`` saying what each file is, the formats of the signed
payloads it carries and the commit that wrote it. The federation's keys are random, so the public half of what
verifies them (the CA certificate, the signed manifest and catalog, the authority's, nodes' and witnesses'
public keys) is copied beside them; no private key is kept.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from share_gateway.api.auth import calling_peer
from share_gateway.api.peer import PeerServicer
from share_gateway.config import NodeConfig
from share_gateway.devkit import (
    MANIFEST_DAYS,
    Layout,
    create_federation,
    free_ports,
    node_certificate,
    write_manifest,
)
from share_gateway.node import start_node
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc, peer_pb2
from tests.conftest import seed_grants
from tests.consents import consent_to_wire, signed_consent
from tests.e2e.test_consent_federation import federated_with
from tests.federation import REGIONS, Nodes, channel
from tests.integration.test_disputes import file
from tests.integration.test_history import mine
from tests.integration.test_listings import listable_penalty, listed_after_hearing
from tests.integration.test_repair import ORIGIN, PEERS, apply, approve, published_debtor
from tests.support import CALLERS, COMPANY, ROLES, entity
from tests.waiting import eventually
from tests.wire_records import DELIVERED_BY, WHAT

REQUESTS = {m.name: GetMessageClass(m.input_type) for m in peer_pb2.DESCRIPTOR.services_by_name["PeerService"].methods}
KINDS = {method: kind.value for kind, method in DELIVERED_BY.items()}
# Within the development CA's ten years (``create_ca``).
RECORDING_DAYS = 3640
DATA = Path(__file__).resolve().parents[1] / "data" / "wire"
BANK = "sgw://institution/91110000MA0000001L"
METHODS = tuple(REQUESTS)
# Every call one node received, in order, is kept: a fresh node of that region takes them again in that order.
REPLAYED = "310000"
# (method, request bytes, response bytes, caller region, callee region, when the callee received it).
Captured = list[tuple[str, bytes, bytes, str, str, datetime]]


def capture(captured: Captured, nodes: Nodes) -> None:
    """Wrap each PeerService method so that what it takes and answers is kept, untouched (before nodes start)."""
    for name in METHODS:
        original: Callable[..., Awaitable[Message]] = getattr(PeerServicer, name)

        @functools.wraps(original)
        async def wrapper(
            self: PeerServicer, request: Message, context: Any, _o: Any = original, _n: str = name
        ) -> Message:
            at = datetime.now(UTC)
            response: Message = await _o(self, request, context)
            caller = (await calling_peer(self.gateway, context))[1]
            callee = next(r for r, node in nodes.items() if node.gateway is self.gateway)
            captured.append((_n, request.SerializeToString(), response.SerializeToString(), caller, callee, at))
            return response

        setattr(PeerServicer, name, wrapper)


def methods_seen(captured: Captured) -> set[str]:
    return {c[0] for c in captured}


async def drive(layout: Layout, nodes: Nodes, captured: Captured) -> None:
    """What makes each peer message go out: the scenarios of the integration tests, once each."""
    seen = functools.partial(methods_seen, captured)
    # A nationally shared record (Publish), integrated and witnessed (Witness).
    record_id = await published_debtor(layout, nodes)
    await eventually(lambda: {"Publish", "Witness"} <= seen())
    # A federated inquiry with the subject's signed consent (Inquire, peer inquiry format 2); then the
    # subject withdraws the consent at the asking node (ShareConsentRevocation).
    consent = signed_consent(layout.client("company"), entity(), BANK)
    async with channel(layout, nodes[ORIGIN], "bank") as bank:
        await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(federated_with(consent_to_wire(consent)), timeout=30)
    async with channel(layout, nodes[ORIGIN], "company") as company:
        withdraw = inquiry_pb2.RevokeConsentRequest(consent_id=consent.consent_id)
        await inquiry_pb2_grpc.InquiryServiceStub(company).RevokeConsent(withdraw, timeout=10)
    await eventually(lambda: {"Inquire", "ShareConsentRevocation"} <= seen())
    # The subject's history across the regions (GetHistory).
    async with channel(layout, nodes[ORIGIN], "company") as company:
        await inquiry_pb2_grpc.InquiryServiceStub(company).GetInquiryHistory(
            mine(COMPANY, scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION), timeout=30
        )
    # A dispute and a repair filed at a node holding a copy (ForwardRepair to the origin, ShareDispute from
    # it), the repair approved (Revoke).
    await file(layout, nodes, record_id, region=PEERS[0])
    application = await apply(layout, nodes, record_id, region=PEERS[0])
    await approve(layout, nodes, application.application_id)
    # A listing after notice and hearing (ShareListing).
    await listed_after_hearing(layout, nodes, await listable_penalty(layout, nodes))
    try:
        await eventually(lambda: set(METHODS) <= seen())
    except AssertionError:
        sys.exit(f"never sent: {sorted(set(METHODS) - seen())}")


def formats(request: Message) -> dict[str, Any]:
    """Each signed JSON payload the request carries, by payload type, with the format version it names."""
    found: dict[str, Any] = {}

    def walk(message: Message) -> None:
        if isinstance(message, common_pb2.SignedEnvelope):
            try:
                body = json.loads(message.payload)
            except ValueError:
                body = {}
            found[message.payload_type] = body.get("v", body.get("format")) if isinstance(body, dict) else None
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            for item in value if field.is_repeated else [value]:
                walk(item)

    walk(request)
    if isinstance(request, peer_pb2.WitnessRequest):
        found["checkpoint"] = "c2sp.org/tlog-checkpoint"
    return found


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def long_lived(layout: Layout, now: datetime) -> None:
    """Node certificates lasting as long as the CA (ten years), the manifest re-signed to pin them: a replay's
    TLS handshake reads the machine's clock, not the replayed node's, so short ones would fail it in two years."""
    for region in REGIONS:
        directory = layout.node_dir(region)
        issued = node_certificate(layout, region, now, days=RECORDING_DAYS)
        (directory / "tls.key").write_bytes(issued.key_pem)
        (directory / "tls.crt").write_bytes(issued.cert_pem)
    write_manifest(layout, 2, now + timedelta(days=MANIFEST_DAYS))


def keep_federation(layout: Layout, target: Path) -> None:
    """The development federation itself, private keys included: they sign nothing but these recordings, and a
    node of it must be started again to take the recorded calls. Databases, locks and clients are left behind."""
    shutil.copytree(
        layout.root, target / "federation", ignore=shutil.ignore_patterns("*.db", "*.db-*", "*.lock", "clients")
    )


def write(captured: Captured, layout: Layout, target: Path) -> None:
    entries: list[dict[str, Any]] = []
    others: set[str] = set()
    for method, request, response, caller, callee, at in captured:
        if callee != REPLAYED:
            # Not sent to the replayed region (a repair goes to the record's origin): the first one is kept.
            if method in others or any(c[0] == method and c[4] == REPLAYED for c in captured):
                continue
            others.add(method)
        name = f"{len(entries):02d}-{method}"
        (target / f"{name}.request.bin").write_bytes(request)
        (target / f"{name}.response.bin").write_bytes(response)
        entries.append({
            "method": method, "request": f"{name}.request.bin", "response": f"{name}.response.bin",
            "caller": caller, "callee": callee, "received_at": at.isoformat(), "replayed": callee == REPLAYED,
            "what": WHAT[method], "delivery_kind": KINDS.get(method),
            "formats": formats(REQUESTS[method].FromString(request)),
        })  # fmt: skip
    keep_federation(layout, target)
    index = {
        "version": target.name, "commit": commit(), "replayed_region": REPLAYED, "regions": list(REGIONS),
        "messages": entries,
    }  # fmt: skip
    (target / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")


async def main(version: str) -> None:
    target = DATA / version
    if target.exists():
        sys.exit(f"{target} exists: a recording is never overwritten, record the new format as a new version")
    captured: Captured = []
    with tempfile.TemporaryDirectory() as folder:
        clients = {name: c[0] for name, c in CALLERS.items()}
        ports = dict(zip(REGIONS, free_ports(len(REGIONS)), strict=True))
        now = datetime.now(UTC)
        layout = create_federation(Path(folder), REGIONS, clients, now, roles=ROLES, ports=ports)
        long_lived(layout, now)
        nodes: Nodes = {}
        try:
            capture(captured, nodes)
            for region in REGIONS:
                nodes[region] = await start_node(NodeConfig.load(layout.node_config(region)))
                seed_grants(nodes[region].gateway.store)
            await drive(layout, nodes, captured)
        finally:
            for node in nodes.values():
                await node.stop(grace=0)
        target.mkdir(parents=True)
        write(captured, layout, target)
    print(f"recorded {sorted(methods_seen(captured))} in {target}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "v1"))
