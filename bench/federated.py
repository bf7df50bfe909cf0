"""Federated inquiry across three local nodes against a local-only inquiry on the same nodes and data, in one run.

Three regional nodes, each in its own process, hold records about the same
companies. The baseline asks region 110000 with local scope; the measured
call asks it with federation scope, so it also signs a peer inquiry, asks
both peers in parallel over mTLS, verifies their signed disclosures and
receipts, and logs the digests. A third line times one peer hop alone (a
signed PeerService.Inquire from this process), to show what dominates.
Goal: federated p50 at most 1.5 x local p50.

    python -m bench.federated [--records 3000] [--seconds 8] [--concurrency 16] [--rounds 2]
                              [--ab boundary|consent-quota] [--stages]

With ``--stages`` a last pass runs the nodes traced (``bench.stages``) and asks
federated inquiries one at a time, then prints where a federated call's time
goes on the asking node and on each peer, stage by stage from the spans.

With ``--ab CHECKS`` each round also runs the three nodes without those checks
(``bench.boundary_checks``), the two in alternating order, and prints what the
checks cost on the federated path.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
import yaml

from bench import boundary_checks, speedups, stages
from bench.harness import Result, closed_loop, ratio_line, spawn, spawn_with_pipe, stop
from bench.inquiry_path import (
    AGENCY,
    BANK,
    providers,
    register_callers,
    serve_node,
    serve_node_without,
    unlimited_quota,
)
from share_gateway.api.convert import subject_kind_text, subject_to_wire
from share_gateway.catalog import open_catalog
from share_gateway.client import consent_to_wire, credentials, open_channel, sign_consent_as
from share_gateway.config import NodeConfig
from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.key_names import node_key_name
from share_gateway.federation.messages import PEER_INQUIRY_TYPE, PeerInquiry
from share_gateway.federation.wire import envelope_to_wire
from share_gateway.node import prepare_gateway
from share_gateway.store.database import open_configured
from share_gateway.store.repositories import Store
from share_gateway.synthetic import Population, SyntheticSubject
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc, peer_pb2, peer_pb2_grpc

REGIONS = ("110000", "310000", "440000")
ASKER, PEER = REGIONS[0], REGIONS[1]


async def _seed(config: NodeConfig, subjects: list[SyntheticSubject], records: int, seed: int) -> None:
    """Register the bench callers and record ``records`` synthetic records about ``subjects`` on one node."""
    database, gateway = prepare_gateway(config)
    now = datetime.now(UTC)
    population = Population(seed=seed, today=now.date())
    register_callers(gateway.store, population.catalog.record_types, now)
    provider = await providers(gateway.runtime, population.catalog.record_types)
    # Made as this node's region would make them: its own authorities, courts and utilities.
    drafts = population.drafts(subjects, per_subject=max(1, records // len(subjects)), region=config.region)[:records]
    for index, draft in enumerate(drafts):
        await gateway.registry.submit(provider(draft), f"bench-{index}", draft)
    await gateway.close()
    database.dispose()


_CONSENTS: dict[str, SignedConsent] = {}


def _signed(layout: Layout, subject: common_pb2.Subject) -> SignedConsent:
    """The bank's attested consent for ``subject`` (one per subject, as a bank keeps one per customer)."""
    if subject.identifier not in _CONSENTS:
        wire = sign_consent_as(
            layout.client("bank").directory,
            subject,
            BANK.uri,
            ("loan_underwriting",),
            b"bench authorisation form",
            attested=True,
        )
        _CONSENTS[subject.identifier] = SignedConsent(wire.statement, wire.signature, wire.certificate)
    return _CONSENTS[subject.identifier]


def _peer_inquiry(
    layout: Layout, subject: common_pb2.Subject, catalog_digest: str
) -> peer_pb2.PeerServiceInquireRequest:
    """A forwarded inquiry as the asking node signs one, with the bank's attested consent for the subject."""
    key = SigningKey.load(node_key_name(ASKER), layout.node_dir(ASKER) / "signing.key")
    inquiry = PeerInquiry.new(
        origin=ASKER,
        requester_uri=BANK.uri,
        requester_kind="bank",
        granted=True,
        subject=Subject.parse(subject_kind_text(subject.kind), subject.identifier),
        purpose="loan_underwriting",
        consent_reference="",
        record_types=(),
        catalog_digest=catalog_digest,
        at=datetime.now(UTC),
        consent=_signed(layout, subject),
    )
    envelope = Envelope.seal(key, PEER_INQUIRY_TYPE, inquiry.to_bytes())
    return peer_pb2.PeerServiceInquireRequest(inquiry=envelope_to_wire(envelope))


async def _warm(channel: grpc.aio.Channel, layout: Layout, chosen: list[common_pb2.Subject]) -> None:
    """Ask about every subject of the run once, federated, before anything is timed: each node (restarted each
    round) then holds each consent as registered and verified, as the asking node would after its own warm-up
    alone, so the local and the federated lines both run warm."""
    stub = inquiry_pb2_grpc.InquiryServiceStub(channel)
    distinct = list({s.identifier: s for s in chosen}.values())
    queue = asyncio.Queue[common_pb2.Subject]()
    for subject in distinct:
        queue.put_nowait(subject)

    async def worker() -> None:
        while not queue.empty():
            subject = queue.get_nowait()
            request = inquiry_pb2.InquireRequest(
                subject=subject,
                purpose="loan_underwriting",
                consent=consent_to_wire(_signed(layout, subject)),
                scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION,
            )
            await stub.Inquire(request, timeout=30)

    await asyncio.gather(*(worker() for _ in range(8)))


async def _measure(
    layout: Layout,
    ports: dict[str, int],
    subjects: list[common_pb2.Subject],
    seconds: float,
    concurrency: int,
    pids: dict[str, int],
) -> dict[str, Result]:
    """The three lines, each with the CPU a call cost the node it asks (the asking node; the peer for the hop)."""
    files = layout.client("bank")
    rng = random.Random(7)
    chosen = [rng.choice(subjects) for _ in range(1024)]
    results: dict[str, Result] = {}
    async with open_channel(f"localhost:{ports[ASKER]}", credentials(files.certificate, files.key, files.ca)) as ch:
        stub = inquiry_pb2_grpc.InquiryServiceStub(ch)
        await _warm(ch, layout, chosen)
        for name, scope in (
            ("local inquiry", inquiry_pb2.INQUIRY_SCOPE_LOCAL),
            ("federated inquiry", inquiry_pb2.INQUIRY_SCOPE_FEDERATION),
        ):
            requests = [
                inquiry_pb2.InquireRequest(
                    subject=s, purpose="loan_underwriting", consent=consent_to_wire(_signed(layout, s)), scope=scope
                )
                for s in chosen
            ]
            sample = await stub.Inquire(requests[0], timeout=10)
            if scope == inquiry_pb2.INQUIRY_SCOPE_FEDERATION and any(
                r.status != inquiry_pb2.REGION_STATUS_OK for r in sample.regions
            ):
                raise SystemExit(f"a region did not answer: {sample.regions}")

            async def inquire(n: int, requests: list[inquiry_pb2.InquireRequest] = requests) -> object:
                return await stub.Inquire(requests[n % len(requests)], timeout=10)

            results[name] = await closed_loop(name, inquire, concurrency, seconds, server_pid=pids[ASKER])
    catalog = open_catalog(layout.catalog.read_bytes(), KeyRing([layout.authority().verifying_key]))
    node = layout.node_dir(ASKER)
    peer_credentials = credentials(node / "tls.crt", node / "tls.key", layout.ca_certificate)
    async with open_channel(f"localhost:{ports[PEER]}", peer_credentials) as ch:
        peer = peer_pb2_grpc.PeerServiceStub(ch)

        async def hop(n: int) -> object:
            return await peer.Inquire(_peer_inquiry(layout, chosen[n % len(chosen)], catalog.digest), timeout=10)

        results["one peer hop"] = await closed_loop(
            "one peer hop (signed)", hop, concurrency, seconds, server_pid=pids[PEER]
        )
    return results


def _requests(
    layout: Layout, subjects: list[common_pb2.Subject], scope: inquiry_pb2.InquiryScope.ValueType
) -> list[inquiry_pb2.InquireRequest]:
    rng = random.Random(7)
    return [
        inquiry_pb2.InquireRequest(
            subject=s, purpose="loan_underwriting", consent=consent_to_wire(_signed(layout, s)), scope=scope
        )
        for s in (rng.choice(subjects) for _ in range(1024))
    ]


def _stages(layout: Layout, ports: dict[str, int], subjects: list[common_pb2.Subject], seconds: float) -> None:
    """Federated inquiries one at a time on traced nodes; each node's stages per call (``bench.stages``)."""
    started = [spawn_with_pipe(stages.serve_node_staged, str(layout.node_config(region))) for region in REGIONS]
    pipes = dict(zip(REGIONS, (pipe for _, pipe in started), strict=True))
    for pipe in pipes.values():
        pipe.recv()  # the port: serving

    def totals() -> dict[str, stages.Totals]:
        for pipe in pipes.values():
            pipe.send("stages")
        return {region: pipe.recv() for region, pipe in pipes.items()}

    async def run() -> Result:
        files = layout.client("bank")
        target = f"localhost:{ports[ASKER]}"
        async with open_channel(target, credentials(files.certificate, files.key, files.ca)) as channel:
            stub = inquiry_pb2_grpc.InquiryServiceStub(channel)
            requests = _requests(layout, subjects, inquiry_pb2.INQUIRY_SCOPE_FEDERATION)
            await _warm(channel, layout, [r.subject for r in requests])  # as the measured runs are
            before = totals()

            async def inquire(n: int) -> object:
                return await stub.Inquire(requests[n % len(requests)], timeout=10)

            result = await closed_loop("federated inquiry (traced)", inquire, 1, seconds, warmup=0)
            after = totals()
        print("  " + result.line())
        for region in REGIONS:
            role = "asking node" if region == ASKER else "peer"
            lines = stages.table(f"{role} {region}", stages.difference(after[region], before[region]), result.calls)
            print("\n".join(lines))
        return result

    try:
        print("where a federated call's time goes (traced nodes, concurrency 1):")
        asyncio.run(run())
    finally:
        for process, _ in started:
            stop(process)


def _settle(layout: Layout) -> None:
    """Serve the seeded nodes until each has delivered its nationally shared records to its peers: the seeding's
    backlog would otherwise be published during the measured runs, on every node's one writer."""
    processes = [spawn(serve_node, str(layout.node_config(region)))[0] for region in REGIONS]
    stores = [Store(open_configured(NodeConfig.load(layout.node_config(region)))) for region in REGIONS]
    try:
        deadline = time.monotonic() + 600
        while any(store.outbox.undelivered(limit=1) for store in stores):
            if time.monotonic() > deadline:
                raise SystemExit("the seeded records were not delivered within 600 s")
            time.sleep(0.5)
    finally:
        for store in stores:
            store.database.dispose()
        for process in processes:
            stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000, help="records per region")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--ab",
        choices=boundary_checks.CHECKS + speedups.SPEEDUPS,
        help="also measure nodes without these checks, or without this speed-up",
    )
    parser.add_argument("--stages", action="store_true", help="also print where a federated call's time goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgw-bench-") as directory:
        ports = dict(zip(REGIONS, free_ports(len(REGIONS)), strict=True))
        clients = {"bank": BANK, "agency": AGENCY}
        layout = create_federation(Path(directory), REGIONS, clients, datetime.now(UTC), ports=ports)
        quotas = unlimited_quota(BANK.uri, *(f"sgw://node/{region}" for region in REGIONS))
        for region in REGIONS:
            config = layout.node_config(region)
            config.write_text(yaml.safe_dump({**yaml.safe_load(config.read_text()), "quotas": quotas}))
        subjects = Population(seed=1, today=datetime.now(UTC).date()).subjects(max(1, args.records // 5), [ASKER])
        print(f"seeding {args.records} records per region about {len(subjects)} subjects ...", flush=True)
        for seed, region in enumerate(REGIONS, start=1):
            asyncio.run(_seed(NodeConfig.load(layout.node_config(region)), subjects, args.records, seed))
        wire = [subject_to_wire(Subject(s.kind, s.identifier)) for s in subjects]
        print("delivering the seeded records to the peers ...", flush=True)
        _settle(layout)
        sides: list[tuple[str, Callable[[Connection, Any], None], str]] = [("", serve_node, "")]
        speedup = args.ab in speedups.SPEEDUPS
        if speedup:
            sides.append((f" w/o {args.ab} speed-up", speedups.serve_node_without, args.ab))
        elif args.ab:
            sides.append((" w/o checks", serve_node_without, args.ab))
        ratios: list[float] = []
        shares: list[float] = []
        checks: list[tuple[float, float, float]] = []
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}:")
            federated: dict[str, Result] = {}
            # The A and B sides take turns going first, so neither always runs on a machine just warmed up.
            for side, target, checks_out in sides if round_number % 2 else sides[::-1]:
                configs = [str(layout.node_config(region)) for region in REGIONS]
                arguments = [(c, checks_out) if checks_out else c for c in configs]
                processes = [spawn(target, argument)[0] for argument in arguments]
                pids = {region: process.pid or 0 for region, process in zip(REGIONS, processes, strict=True)}
                try:
                    results = asyncio.run(_measure(layout, ports, wire, args.seconds, args.concurrency, pids))
                finally:
                    for process in processes:
                        stop(process)
                local, federated[side] = results["local inquiry"], results["federated inquiry"]
                for result in results.values():
                    print("  " + dataclasses.replace(result, name=result.name + side).line())
                if not side:
                    print("  " + ratio_line(federated[side], local))
                    ratios.append(federated[side].percentile(50) / local.percentile(50))
                    # Three nodes share the cores a local inquiry has to itself: the throughput goal at concurrency 16.
                    shares.append(federated[side].qps / (local.qps / 3))
                    print(f"  federated QPS / (local QPS / 3): {shares[-1]:.2f} (goal at concurrency 16: >= 0.8)")
            if args.ab:
                with_checks, without = federated[""], federated[sides[1][0]]
                named = dataclasses.replace(without, name="federated inquiry" + sides[1][0])
                print("  " + ratio_line(with_checks, named))
                cpu = (with_checks.cpu_per_call_us or 0.0) / (without.cpu_per_call_us or 1.0)
                checks.append((with_checks.qps / without.qps, with_checks.percentile(50) / without.percentile(50), cpu))
        if ratios:
            median = statistics.median(ratios)
            print(f"median p50 ratio federated/local over {len(ratios)} rounds: {median:.2f} (goal <= 1.5)")
            share = statistics.median(shares)
            print(f"median federated QPS / (local QPS / 3) over {len(shares)} rounds: {share:.2f} (goal >= 0.8)")
        if args.stages:
            _stages(layout, ports, wire, args.seconds)
        if checks and speedup:
            qps, p50 = statistics.median(c[0] for c in checks), statistics.median(c[1] for c in checks)
            cpu = statistics.median(c[2] for c in checks)
            print(
                f"the {args.ab} speed-up over {len(checks)} rounds: median QPS ratio with/without {qps:.3f}, "
                f"median p50 ratio with/without {p50:.3f}, median asking-node CPU per call with/without {cpu:.3f}"
            )
        elif checks:
            qps, p50 = statistics.median(c[0] for c in checks), statistics.median(c[1] for c in checks)
            print(
                f"boundary checks on the federated path over {len(checks)} rounds: median QPS ratio with/without "
                f"{qps:.3f} (budget >= 0.95), median p50 ratio {p50:.3f} (budget <= 1.05)"
            )


if __name__ == "__main__":
    main()
