"""Full-path inquiry against a bare echo server with the same mTLS, in one run.

The full path is everything a real inquiry does: mTLS, identify the caller
from its certificate, load its grants, authorise the purpose, decide per
record type, read the subject's records, filter fields, sign the receipt,
and commit the event before replying. The baseline is a ``grpc.aio`` server
that echoes the same request bytes over the same mTLS. Goal: full path at
least 0.5 x the echo QPS.

    python -m bench.inquiry_path [--records 10000] [--seconds 8] [--concurrency 32] [--rounds 2]
                                 [--ab boundary|consent-quota] [--consent-uses 4]

With ``--ab CHECKS`` each round measures the full path with and without those
checks on one node process switched between the two by a bench-only signal
(``bench.boundary_checks``: issue 10's at the trust boundaries, or issue 11's
consent and quota checks; the bench bank's quota is set out of reach, so they
run and refuse nothing), the two in alternating order, and prints what the
checks cost. Each consent the bank attests is carried by
``--consent-uses`` inquiries in a row (a customer's application and the checks
after it), so a fixed share of the calls brings a consent the node has never
seen and pays its signature verification, however fast the node answers.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import grpc
import yaml

from bench import boundary_checks
from bench.harness import Result, alternating_ratio, closed_loop, median_ratio, ratio_line, spawn, stop
from share_gateway.api.convert import subject_to_wire
from share_gateway.client import credentials, open_channel, sign_consent_as
from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.catalog import RecordType
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Grant, GrantRole, Principal
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.domain.records import RecordDraft
from share_gateway.gateway.grants import enrol, operator_act
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.node import Node, prepare_gateway, start_node
from share_gateway.store.repositories import Store
from share_gateway.synthetic import Population
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc

REGION = "110000"
BANK = Identity(IdentityKind.INSTITUTION, "91110000MA0000001L")
AGENCY = Identity(IdentityKind.INSTITUTION, "11110000MB00000048")
# The catalog names courts as the providers of dishonest judgment debtors: the bench court submits those.
COURT = Identity(IdentityKind.INSTITUTION, "11110000MB0000005B")
ECHO_METHOD = "/bench.Echo/Echo"
# Distinct consents a round's inquiries carry, and how many inquiries carry each (the same one in a row).
CONSENTS = 4096
CONSENT_USES = 4


async def _seed(config: NodeConfig, records: int) -> list[common_pb2.Subject]:
    """Record ``records`` synthetic records through the gateway (events included); return their subjects."""
    database, gateway = prepare_gateway(config)
    now = datetime.now(UTC)
    population = Population(seed=1, today=now.date())
    register_callers(gateway.store, population.catalog.record_types, now)
    provider = await providers(gateway.runtime, population.catalog.record_types)
    subjects = population.subjects(max(1, records // 5), regions=[REGION])
    drafts = population.drafts(subjects, per_subject=5)[:records]
    for index, draft in enumerate(drafts):
        await gateway.registry.submit(provider(draft), f"bench-{index}", draft)
    await gateway.close()
    database.dispose()
    return [subject_to_wire(Subject(s.kind, s.identifier)) for s in subjects]


def register_callers(store: Store, record_types: Mapping[str, RecordType], now: datetime) -> None:
    """The bench bank may inquire for loan underwriting; the bench agency and court may submit ``record_types``,
    each the ones the catalog names its kind a provider of."""
    since = now - timedelta(days=1)
    act = operator_act(REGION, "bench setup", "bench")
    bank = [Grant(GrantRole.INQUIRE, "loan_underwriting", since)]
    enrol(store, BANK.identifier, bank, now, "bank", "bench bank", act=act)
    for identity, kind in ((AGENCY, "public_agency"), (COURT, "court")):
        submits = [
            Grant(GrantRole.SUBMIT, name, since) for name, t in record_types.items() if t.provision.may_provide(kind)
        ]
        enrol(store, identity.identifier, submits, now, kind, f"bench {kind}", act=act)


async def providers(runtime: NodeRuntime, record_types: Mapping[str, RecordType]) -> Callable[[RecordDraft], Principal]:
    """Who submits a draft: the bench agency, or the bench court for the types only courts provide."""
    agency, court = await runtime.principal(AGENCY), await runtime.principal(COURT)
    return lambda draft: agency if record_types[draft.record_type].provision.may_provide(agency.kind) else court


def unlimited_quota(*requesters: str, purpose: str = "loan_underwriting") -> dict[str, object]:
    """The bench bank's grant (and a bench peer region) carries an override no bench reaches: the checks run,
    and refuse nothing."""
    big = 10**9
    limits = {"per_minute": big, "burst": big, "per_day": big, "distinct_subjects": big}
    overrides = [{"requester": requester, "purpose": purpose, **limits} for requester in requesters]
    return {"concurrent_calls": 10_000, "overrides": overrides}


def serve_node(pipe: Connection, config_path: str) -> None:
    asyncio.run(_serve(pipe, config_path))


def serve_node_without(pipe: Connection, argument: tuple[str, str]) -> None:
    """A node without some checks (``(config path, checks)``): the B side of ``--ab`` (bench-only)."""
    config_path, checks = argument
    boundary_checks.take_out(checks)
    asyncio.run(_serve(pipe, config_path))


def serve_node_switching(pipe: Connection, argument: tuple[str, str]) -> None:
    """A node whose checks (``(config path, checks)``) go out on SIGUSR1 and back on SIGUSR2 (bench-only)."""
    config_path, checks = argument
    asyncio.run(_serve(pipe, config_path, switching_signals(checks)))


def switching_signals(checks: str) -> dict[signal.Signals, Callable[[], None]]:
    """Signal handlers that take ``checks`` out (SIGUSR1) and put them back (SIGUSR2), in this process."""
    put_back: list[Callable[[], None]] = []

    def without() -> None:
        if not put_back:
            put_back.append(boundary_checks.take_out(checks))

    def with_checks() -> None:
        while put_back:
            put_back.pop()()

    return {signal.SIGUSR1: without, signal.SIGUSR2: with_checks}


class PortPipe(Protocol):
    """Where a served node's port is sent: a multiprocessing pipe, or standard output."""

    def send(self, port: int) -> None: ...


async def _serve(
    pipe: PortPipe,
    config_path: str,
    on_signals: Mapping[signal.Signals, Callable[[], None]] | None = None,
    started: Callable[[Node], None] | None = None,
) -> None:
    node = await start_node(NodeConfig.load(Path(config_path)))
    if started is not None:
        started(node)
    for number, handler in (on_signals or {}).items():
        asyncio.get_running_loop().add_signal_handler(number, handler)
    pipe.send(node.port)
    await asyncio.Event().wait()


def serve_echo(pipe: Connection, config_path: str) -> None:
    config = NodeConfig.load(Path(config_path))

    async def main() -> None:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(_echo)
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler})])
        port = server.add_secure_port(
            "127.0.0.1:0",
            grpc.ssl_server_credentials(
                [(config.tls_key.read_bytes(), config.tls_certificate.read_bytes())],
                root_certificates=config.ca_certificate.read_bytes(),
                require_client_auth=True,
            ),
        )
        await server.start()
        pipe.send(port)
        await server.wait_for_termination()

    asyncio.run(main())


async def _echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return request


NAMES = {
    "echo": "echo (bare grpc.aio, mTLS)",
    "full": "full inquiry path",
    "without": "full path w/o checks",
}


def bank_inquiries(
    identity: Path,
    subjects: list[common_pb2.Subject],
    consent_uses: int = CONSENT_USES,
    consents: int = CONSENTS,
    form: str = "bench authorisation form",
) -> list[inquiry_pb2.InquireRequest]:
    """Loan-underwriting inquiries of the bench bank about ``subjects`` (a fixed random draw), each of the
    ``consents`` the bank attests carried by ``consent_uses`` of them in a row: so one call in ``consent_uses``
    brings a consent the node has not seen (its signature verified), whatever the throughput, until the list wraps
    around. Another ``form`` gives the same subjects in the same order with consents the node has not seen."""
    rng = random.Random(7)
    requests = []
    for n in range(consents):
        subject = rng.choice(subjects)
        consent = sign_consent_as(
            identity, subject, BANK.uri, ("loan_underwriting",), f"{form} {n}".encode(), attested=True
        )
        request = inquiry_pb2.InquireRequest(subject=subject, purpose="loan_underwriting", consent=consent)
        requests += [request] * consent_uses
    return requests


async def _measure(
    layout: Layout,
    port: int,
    requests: list[inquiry_pb2.InquireRequest],
    name: str,
    seconds: float,
    concurrency: int,
    server_pid: int | None = None,
    stream: Iterator[int] | None = None,
) -> Result:
    """Measure one server; ``stream`` numbers the requests sent, so measurements of one node continue the
    request list where the last left off (its consents stay new to the node at the same rate)."""
    files = layout.client("bank")
    numbers = stream if stream is not None else itertools.count()
    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        if name == "echo":
            method: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(ECHO_METHOD)
            payloads = [r.SerializeToString() for r in requests]

            async def call(n: int) -> object:
                return await method(payloads[n % len(payloads)], timeout=10)

            return await closed_loop(NAMES[name], call, concurrency, seconds, server_pid=server_pid)
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)
        sample = [await stub.Inquire(r, timeout=10) for r in requests[:20]]
        if not any(answer.records for answer in sample):
            raise SystemExit("the full path answered no records: the benchmark would measure an empty path")

        async def inquire(n: int) -> object:
            return await stub.Inquire(requests[next(numbers) % len(requests)], timeout=10)

        return await closed_loop(NAMES[name], inquire, concurrency, seconds, server_pid=server_pid)


def _measure_fresh(
    layout: Layout,
    target: Callable[[Connection, Any], None],
    config_path: str,
    requests: list[inquiry_pb2.InquireRequest],
    name: str,
    args: argparse.Namespace,
    stream: Iterator[int] | None = None,
) -> Result:
    """Measure a server started for this measurement alone."""
    process, port = spawn(target, config_path)
    try:
        return asyncio.run(_measure(layout, port, requests, name, args.seconds, args.concurrency, process.pid, stream))
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sqlite-synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument("--ab", choices=boundary_checks.CHECKS, help="also measure a node without these checks")
    parser.add_argument(
        "--consent-uses", type=int, default=CONSENT_USES, help="inquiries per consent: 1 in N brings a new one"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgw-bench-") as directory:
        layout = create_federation(Path(directory), [REGION], {"bank": BANK, "agency": AGENCY}, datetime.now(UTC))
        config_path = str(layout.node_config(REGION))
        settings = yaml.safe_load(Path(config_path).read_text())
        Path(config_path).write_text(
            yaml.safe_dump(
                {**settings, "sqlite_synchronous": args.sqlite_synchronous, "quotas": unlimited_quota(BANK.uri)}
            )
        )
        print(f"seeding {args.records} records on SQLite (synchronous={args.sqlite_synchronous}) ...", flush=True)
        print(f"1 inquiry in {args.consent_uses} brings a consent the node has not seen", flush=True)
        subjects = asyncio.run(_seed(NodeConfig.load(Path(config_path)), args.records))
        requests = bank_inquiries(layout.client("bank").directory, subjects, args.consent_uses)
        stream = itertools.count()
        switching = spawn(serve_node_switching, (config_path, args.ab)) if args.ab else None
        pairs: list[tuple[Result, Result]] = []
        # The switched node's measurements in the order taken: with, without, with, without, ...
        alternating: list[Result] = []
        try:
            if switching is not None:
                # One span unmeasured: a fresh node is slower at first (cold caches), which would favour one side.
                asyncio.run(
                    _measure(layout, switching[1], requests, "full", args.seconds, args.concurrency, None, stream)
                )
            for round_number in range(1, args.rounds + 1):
                results = {"echo": _measure_fresh(layout, serve_echo, config_path, requests, "echo", args)}
                if switching is None:
                    results["full"] = _measure_fresh(layout, serve_node, config_path, requests, "full", args, stream)
                else:
                    process, port = switching
                    assert process.pid is not None
                    for name in ("full", "without"):
                        os.kill(process.pid, signal.SIGUSR2 if name == "full" else signal.SIGUSR1)
                        results[name] = asyncio.run(
                            _measure(layout, port, requests, name, args.seconds, args.concurrency, process.pid, stream)
                        )
                        alternating.append(results[name])
                print(f"round {round_number}:")
                for result in results.values():
                    print("  " + result.line())
                print("  " + ratio_line(results["full"], results["echo"]))
                pairs.append((results["full"], results["echo"]))
                if args.ab:
                    print("  " + ratio_line(results["full"], results["without"]))
        finally:
            if switching is not None:
                stop(switching[0])
        print(f"median QPS ratio full/echo over {len(pairs)} rounds: {median_ratio(pairs):.2f} (goal >= 0.50)")
        if alternating:
            qps = alternating_ratio([r.qps for r in alternating])
            print(
                f"QPS ratio with/without the {args.ab} checks, {len(alternating)} alternating spans, "
                f"drift cancelled: {qps:.3f} (budget >= 0.95)"
            )
            cpu = [r.cpu_per_call_us for r in alternating]
            if all(c is not None for c in cpu):
                ratio = alternating_ratio([c for c in cpu if c is not None])
                print(f"server CPU per call with/without the {args.ab} checks, drift cancelled: {ratio:.3f} (<= 1.05)")


if __name__ == "__main__":
    main()
