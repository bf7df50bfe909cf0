"""Credit repair: from the approval at the origin until no peer discloses the record, over loopback, in one run.

An origin and three peers (four regions), each `share-gateway serve` in its
own process. Each run the court records a dishonest judgment debtor at the
origin (a type shared nationwide), waits until every peer discloses it to
the bank, then the company applies for repair and the court accepts and
approves. The clock starts right before the approve RPC; every peer is
then asked (a local-scope inquiry by the bank, every ``--poll-ms``) until
none discloses the record. The time of the answer that first shows it gone
counts, so each figure is an upper bound by at most one poll.

The baseline is the approve RPC alone (commit of the decision, the repaired
record and the queued revocations), timed in the same runs; the ratio says
how much the courier's delivery to every peer adds. Goal: all peers stop
within 1 s.

The second scenario stops one peer (SIGKILL by default) before the
approval, keeps it down ``--down-seconds`` after it, restarts it and times
both approval -> every peer stopped and restart -> that peer stopped. The
courier retries a failing peer on a backoff (CourierSettings: 0.5 s doubling
to 30 s), printed with the figures; a peer that answers the origin's witness
requests again is resumed at once, so a returned peer does not wait for the
next retry.

    python -m bench.repair [--runs 20] [--down-runs 5] [--down-seconds 2] [--signal kill|term] [--poll-ms 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import grpc

from bench.inquiry_path import AGENCY, BANK, COURT, register_callers
from share_gateway.catalog import sample_catalog_text
from share_gateway.client import credentials, open_channel, sign_consent_as
from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.domain.canonical import parse_json
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.gateway.outbox import CourierSettings, backoff
from share_gateway.store.database import migrate, open_database
from share_gateway.store.repositories import Store
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc

REGIONS = ("110000", "310000", "440000", "510000")
ORIGIN, PEERS = REGIONS[0], REGIONS[1:]
COMPANY = Identity(IdentityKind.INSTITUTION, "91110105MA01ABCD00")
DEBTOR = "dishonest_judgment_debtor"
READY_SECONDS = 60.0
WAIT_SECONDS = 60.0


class NodeProcess:
    """`share-gateway serve` in its own process, as an operator runs it; ready once it prints its port."""

    def __init__(self, config: Path) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "share_gateway.cli", "serve", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    async def ready(self) -> None:
        """Wait (off the event loop) for the line naming the mTLS port; fail if the node exits first."""
        assert self.popen.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.popen.stdout.readline), READY_SECONDS)
        if not re.search(r"mTLS port \d+", line):
            raise SystemExit(f"a node did not start (exit code {self.popen.poll()}): {line!r}")

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signum)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=20)


def _text(value: str) -> common_pb2.FieldValue:
    return common_pb2.FieldValue(text=value)


def debtor_request(request_id: str) -> registry_pb2.SubmitRecordRequest:
    """A debtor listing about the company: shared nationwide and repairable on performance, so at once."""
    decided = (date.today() - timedelta(days=60)).isoformat()
    return registry_pb2.SubmitRecordRequest(
        request_id=request_id,
        record_type=DEBTOR,
        subject=common_pb2.Subject(kind=common_pb2.SUBJECT_KIND_LEGAL_ENTITY, identifier=COMPANY.identifier),
        fields={
            "debtor_name": _text("北京恒信科技有限公司"),
            "obligation": _text("支付货款人民币120万元及利息"),
            "performance": _text("全部未履行"),
            "conduct": _text("有履行能力而拒不履行生效法律文书确定义务"),
            "enforcement_basis_issuer": _text("北京市朝阳区人民法院"),
            "enforcement_basis_number": _text("(2025)京0105民初1234号"),
            "case_number": _text(f"(2026)京0105执{request_id}号"),
            "filed_on": common_pb2.FieldValue(date=(date.today() - timedelta(days=90)).isoformat()),
            "court": _text("北京市朝阳区人民法院"),
        },
        legal_document=common_pb2.LegalDocument(
            number=f"(2026)京0105执{request_id}号之一",
            issuer="北京市朝阳区人民法院",
            kind="dishonest_judgment_debtor_decision",
            issued_on=decided,
            effective_on=decided,
        ),
        severity="standard",
    )


@dataclass
class Federation:
    """The running nodes and a channel per (caller, region); channels to a restarted node are opened afresh."""

    layout: Layout
    ports: dict[str, int]
    nodes: dict[str, NodeProcess] = field(default_factory=dict)
    channels: dict[tuple[str, str], grpc.aio.Channel] = field(default_factory=dict)

    def channel(self, caller: str, region: str) -> grpc.aio.Channel:
        key = (caller, region)
        if key not in self.channels:
            files = self.layout.client(caller)
            self.channels[key] = open_channel(
                f"localhost:{self.ports[region]}", credentials(files.certificate, files.key, files.ca)
            )
        return self.channels[key]

    async def forget(self, region: str) -> None:
        """Close the channels to a stopped node, so calls after its restart do not wait out gRPC's reconnect backoff."""
        for key in [k for k in self.channels if k[1] == region]:
            await self.channels.pop(key).close()

    async def start(self, *regions: str) -> None:
        started = {region: NodeProcess(self.layout.node_config(region)) for region in regions}
        self.nodes.update(started)
        await asyncio.gather(*(process.ready() for process in started.values()))

    def registry(self) -> registry_pb2_grpc.RegistryServiceAsyncStub:
        return registry_pb2_grpc.RegistryServiceStub(self.channel("court", ORIGIN))

    async def discloses(self, region: str, record_id: str) -> bool:
        """Whether the region's node shows the record to the bank (local scope: that node's own answer)."""
        subject = common_pb2.Subject(kind=common_pb2.SUBJECT_KIND_LEGAL_ENTITY, identifier=COMPANY.identifier)
        consent = sign_consent_as(
            self.layout.client("bank").directory,
            subject,
            BANK.uri,
            ("loan_underwriting",),
            b"bench authorisation form",
            attested=True,
        )
        request = inquiry_pb2.InquireRequest(
            subject=subject,
            purpose="loan_underwriting",
            consent=consent,
            record_types=[DEBTOR],
            scope=inquiry_pb2.INQUIRY_SCOPE_LOCAL,
        )
        answer = await inquiry_pb2_grpc.InquiryServiceStub(self.channel("bank", region)).Inquire(request, timeout=5)
        return any(parse_json(r.statement.payload)["record_id"] == record_id for r in answer.records)

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
        for process in self.nodes.values():
            process.stop()


async def wait_until(region: str, record_id: str, federation: Federation, disclosed: bool, poll: float) -> float:
    """Poll until the region's disclosure of the record is ``disclosed``; return the perf_counter then."""
    deadline = time.monotonic() + WAIT_SECONDS
    while await federation.discloses(region, record_id) != disclosed:
        if time.monotonic() > deadline:
            raise SystemExit(f"region {region} still {'hides' if disclosed else 'discloses'} {record_id}")
        await asyncio.sleep(poll)
    return time.perf_counter()


async def published(federation: Federation, run: str, poll: float) -> tuple[str, str]:
    """Record a debtor at the origin, wait until every peer discloses it, apply and accept; (record, application)."""
    registry = federation.registry()
    record_id = (await registry.SubmitRecord(debtor_request(run), timeout=10)).record.record_id
    await asyncio.gather(*(wait_until(p, record_id, federation, True, poll) for p in PEERS))
    company = inquiry_pb2_grpc.InquiryServiceStub(federation.channel("company", ORIGIN))
    applied = await company.ApplyForRepair(
        inquiry_pb2.ApplyForRepairRequest(
            record_id=record_id, evidence="(2026)京0105执结案通知书：已全部履行", commitment="依法履行义务"
        ),
        timeout=10,
    )
    application_id = applied.application.application_id
    await registry.AcceptRepair(registry_pb2.AcceptRepairRequest(application_id=application_id), timeout=10)
    return record_id, application_id


async def approve(federation: Federation, application_id: str) -> tuple[float, float]:
    """Approve; return the perf_counter right before the call and the call's latency in ms."""
    started = time.perf_counter()
    decided = await federation.registry().DecideRepair(
        registry_pb2.DecideRepairRequest(application_id=application_id, approve=True, reason="judgment performed"),
        timeout=10,
    )
    latency = (time.perf_counter() - started) * 1000
    if decided.application.state != common_pb2.REPAIR_STATE_APPROVED:
        raise SystemExit(f"the approval answered {decided.application}")
    return started, latency


@dataclass
class AllUp:
    approve_ms: float
    stopped_ms: dict[str, float]

    @property
    def all_ms(self) -> float:
        return max(self.stopped_ms.values())


async def run_all_up(federation: Federation, run: int, poll: float) -> AllUp:
    record_id, application_id = await published(federation, f"up{run}", poll)
    started, latency = await approve(federation, application_id)
    ended = await asyncio.gather(*(wait_until(p, record_id, federation, False, poll) for p in PEERS))
    if await federation.discloses(ORIGIN, record_id):
        raise SystemExit("the origin still discloses an approved repair")
    return AllUp(latency, {p: (t - started) * 1000 for p, t in zip(PEERS, ended, strict=True)})


@dataclass
class OneDown:
    approve_ms: float
    live_ms: float  # approval -> every live peer stopped
    all_ms: float  # approval -> every peer, the restarted one included, stopped
    restart_ms: float  # restart (process launched) -> the restarted peer stopped
    ready_ms: float  # restarted peer serving -> it stopped
    launched_ms: float  # approval -> restart launched
    serving_ms: float  # approval -> restarted peer serving


async def run_one_down(
    federation: Federation, run: int, poll: float, down: str, down_seconds: float, signum: int
) -> OneDown:
    record_id, application_id = await published(federation, f"down{run}", poll)
    federation.nodes.pop(down).stop(signum)
    await federation.forget(down)
    started, latency = await approve(federation, application_id)
    live = [p for p in PEERS if p != down]
    live_task = asyncio.gather(*(wait_until(p, record_id, federation, False, poll) for p in live))
    await asyncio.sleep(max(0.0, down_seconds - (time.perf_counter() - started)))
    launched = time.perf_counter()
    await federation.start(down)
    serving = time.perf_counter()
    returned = await wait_until(down, record_id, federation, False, poll)
    live_ended = max(await live_task)
    return OneDown(
        approve_ms=latency,
        live_ms=(live_ended - started) * 1000,
        all_ms=(max(live_ended, returned) - started) * 1000,
        restart_ms=(returned - launched) * 1000,
        ready_ms=(returned - serving) * 1000,
        launched_ms=(launched - started) * 1000,
        serving_ms=(serving - started) * 1000,
    )


def summary(name: str, values: Sequence[float]) -> str:
    return f"  {name:<44} median {statistics.median(values):8.1f} ms   max {max(values):8.1f} ms"


def ratio(name: str, measured: Sequence[float], baseline: Sequence[float]) -> str:
    return (
        f"  ratio {name}: median {statistics.median(measured) / statistics.median(baseline):.1f}x, "
        f"max {max(measured) / max(baseline):.1f}x"
    )


def retry_schedule(settings: CourierSettings, horizon: float) -> list[float]:
    """Seconds after the first failed delivery at which the courier tries a peer that stays down."""
    at, attempts, schedule = 0.0, 0, [0.0]
    while at < horizon:
        attempts += 1
        at += backoff(attempts, settings)
        schedule.append(at)
    return schedule


def prepare(layout: Layout) -> None:
    """Create every node's database and register the bench callers before the nodes serve."""
    now = datetime.now(UTC)
    for region in REGIONS:
        database = open_database(NodeConfig.load(layout.node_config(region)).database)
        try:
            migrate(database)
            debtors = {DEBTOR: Catalog.from_yaml(sample_catalog_text()).record_types[DEBTOR]}
            register_callers(Store(database), debtors, now)
        finally:
            database.dispose()


async def bench(layout: Layout, ports: dict[str, int], args: argparse.Namespace) -> None:
    federation = Federation(layout, ports)
    poll = args.poll_ms / 1000
    signum = signal.SIGKILL if args.signal == "kill" else signal.SIGTERM
    try:
        await federation.start(*REGIONS)
        print(f"warming up ({args.warmup} run(s)) ...", flush=True)
        for run in range(args.warmup):
            await run_all_up(federation, -1 - run, poll)
        print(f"scenario 1: all peers up, {args.runs} runs", flush=True)
        up = [await run_all_up(federation, run, poll) for run in range(args.runs)]
        approve_ms = [r.approve_ms for r in up]
        all_ms = [r.all_ms for r in up]
        print(summary("approve RPC alone (baseline)", approve_ms))
        for peer in PEERS:
            print(summary(f"approve -> peer {peer} stops disclosing", [r.stopped_ms[peer] for r in up]))
        print(summary("approve -> every peer stops disclosing", all_ms))
        print(ratio("every peer stopped / approve RPC", all_ms, approve_ms))
        verdict = "met" if max(all_ms) < 1000 else "NOT met"
        print(f"  goal < 1000 ms with all peers up: {verdict} (max {max(all_ms):.1f} ms)")
        if args.down_runs:
            down = PEERS[-1]
            print(
                f"scenario 2: peer {down} stopped (SIG{args.signal.upper()}) before the approval, restarted "
                f"{args.down_seconds:.1f} s after it, {args.down_runs} runs",
                flush=True,
            )
            downs = []
            for run in range(args.down_runs):
                downs.append(await run_one_down(federation, run, poll, down, args.down_seconds, signum))
                await asyncio.sleep(
                    1.0
                )  # the returned node catches up (witnessing, its own courier) before the next run
            print(summary("approve RPC alone (baseline)", [d.approve_ms for d in downs]))
            print(summary("approve -> both live peers stop disclosing", [d.live_ms for d in downs]))
            print(summary("approve -> restart launched", [d.launched_ms for d in downs]))
            print(summary("approve -> restarted peer serving", [d.serving_ms for d in downs]))
            print(summary("restart launched -> restarted peer stops", [d.restart_ms for d in downs]))
            print(summary("restarted peer serving -> it stops", [d.ready_ms for d in downs]))
            print(summary("approve -> every peer stops disclosing", [d.all_ms for d in downs]))
            print(ratio("live peers stopped / approve RPC", [d.live_ms for d in downs], [d.approve_ms for d in downs]))
            print(ratio("every peer stopped / approve RPC", [d.all_ms for d in downs], [d.approve_ms for d in downs]))
            horizon = max(d.all_ms for d in downs) / 1000
            schedule = ", ".join(f"{s:.1f}" for s in retry_schedule(CourierSettings(), horizon))
            print(f"  courier retries a down peer at about these seconds after the approval: {schedule}")
            print("  (and at once when the returned peer cosigns the origin's checkpoint again)")
    finally:
        await federation.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="runs with every peer up")
    parser.add_argument("--warmup", type=int, default=2, help="runs first, not counted")
    parser.add_argument("--down-runs", type=int, default=5, help="runs with one peer stopped and restarted (0: none)")
    parser.add_argument("--down-seconds", type=float, default=2.0, help="from the approval to the peer's restart")
    parser.add_argument("--signal", choices=["kill", "term"], default="kill", help="how the peer is stopped")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="pause between two inquiries of one peer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgw-bench-") as directory:
        ports = dict(zip(REGIONS, free_ports(len(REGIONS)), strict=True))
        clients = {"bank": BANK, "agency": AGENCY, "court": COURT, "company": COMPANY}
        layout = create_federation(Path(directory), REGIONS, clients, datetime.now(UTC), ports=ports)
        prepare(layout)
        print(f"origin {ORIGIN}, peers {', '.join(PEERS)}; each node `share-gateway serve` in its own process")
        asyncio.run(bench(layout, ports, args))


if __name__ == "__main__":
    main()
