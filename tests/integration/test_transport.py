"""The transport: mTLS from the federation CA only, a public port for what anyone may read, limits, deadlines."""

from __future__ import annotations

import dataclasses
import sqlite3
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind
from share_gateway.node import Node, start_node
from share_gateway.store.database import SQLITE_BUSY_TIMEOUT_MS
from share_gateway.v1 import catalog_pb2, catalog_pb2_grpc, inquiry_pb2_grpc, registry_pb2_grpc
from tests.conftest import ChannelFactory
from tests.reflection import v1_files_of, v1_services
from tests.support import inquiry, penalty_request
from tests.waiting import eventually

# A loop that waited for the write lock would be stuck until SQLite's busy timeout gives up; anything
# answered well within it was not (however loaded the machine, a 0.5 s deadline is far from 5 s).
BLOCKED_LOOP_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000 / 2


def public_channel(node: Node, federation: Layout) -> grpc.aio.Channel:
    """Server-authenticated TLS, no client certificate."""
    assert node.public_port is not None
    return open_channel(f"localhost:{node.public_port}", credentials(None, None, federation.ca_certificate))


async def test_a_client_without_a_certificate_cannot_connect(node: Node, federation: Layout) -> None:
    async with open_channel(f"localhost:{node.port}", credentials(None, None, federation.ca_certificate)) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await inquiry_pb2_grpc.InquiryServiceStub(channel).Inquire(inquiry("public_lookup"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
    assert node.gateway.store.count("events") == 0


async def test_a_certificate_from_another_ca_cannot_connect(
    node: Node, federation: Layout, foreign_client: Layout
) -> None:
    files = foreign_client.client("bank")
    # It trusts our server (our CA) but presents a certificate our CA never issued.
    with_foreign_cert = credentials(files.certificate, files.key, federation.ca_certificate)
    async with open_channel(f"localhost:{node.port}", with_foreign_cert) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await inquiry_pb2_grpc.InquiryServiceStub(channel).Inquire(inquiry("public_lookup"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
    assert node.gateway.store.count("events") == 0


async def test_the_public_port_serves_catalog_health_and_reflection(node: Node, federation: Layout) -> None:
    async with public_channel(node, federation) as channel:
        catalog = await catalog_pb2_grpc.CatalogServiceStub(channel).GetCatalog(
            catalog_pb2.GetCatalogRequest(), timeout=5
        )
        assert catalog.version == 1
        assert catalog.digest == node.gateway.catalog.digest
        assert {t.name for t in catalog.record_types} >= {"administrative_penalty", "loan_default"}
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="share_gateway.v1.InquiryService"), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        services = {s.name async for r in stream for s in r.list_services_response.service}
        assert {"share_gateway.v1.InquiryService", "share_gateway.v1.RegistryService"} <= services


async def test_reflection_answers_v1_as_current_clients_ask(node: Node, federation: Layout) -> None:
    """Issue 15 item 7: grpcurl and other current clients ask ``grpc.reflection.v1`` first; v1alpha alone answered
    them UNIMPLEMENTED. v1 lists the same services, describes the node's, and describes itself under its own name."""
    async with public_channel(node, federation) as channel:
        services = await v1_services(channel)
        assert {
            "share_gateway.v1.InquiryService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        } <= services
        inquiry_files = await v1_files_of(channel, "share_gateway.v1.InquiryService")
        [inquiry_file] = [f for f in inquiry_files.values() if f.package == "share_gateway.v1" and f.service]
        assert "Inquire" in {m.name for s in inquiry_file.service for m in s.method}
        itself = await v1_files_of(channel, "grpc.reflection.v1.ServerReflection")
    [file] = itself.values()
    assert (file.name, file.package) == ("grpc/reflection/v1/reflection.proto", "grpc.reflection.v1")
    [method] = file.service[0].method
    assert (method.name, method.input_type) == ("ServerReflectionInfo", ".grpc.reflection.v1.ServerReflectionRequest")
    assert method.client_streaming
    assert method.server_streaming


async def test_the_public_port_refuses_what_needs_an_identity(node: Node, federation: Layout) -> None:
    async with public_channel(node, federation) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await inquiry_pb2_grpc.InquiryServiceStub(channel).Inquire(inquiry("public_lookup"), timeout=5)
        assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await registry_pb2_grpc.RegistryServiceStub(channel).SubmitRecord(penalty_request(), timeout=5)
        assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert node.gateway.store.count("events") == 0
    assert node.gateway.store.count("records") == 0


async def test_an_oversized_message_is_refused_and_writes_nothing(node: Node, connect: ChannelFactory) -> None:
    request = penalty_request()
    request.fields["violation_facts"].text = "事" * (node.config.max_message_bytes // 2)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert node.gateway.store.count("records") == 0
    assert node.gateway.store.count("events") == 0


async def test_a_long_text_within_the_message_limit_is_refused_by_the_catalog(
    node: Node, connect: ChannelFactory
) -> None:
    request = penalty_request()
    request.fields["violation_facts"].text = "x" * 5000
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_deadline_is_honoured_while_the_database_is_busy(
    node: Node, connect: ChannelFactory, node_config: NodeConfig
) -> None:
    """The node answers DEADLINE_EXCEEDED at the client's deadline, stays responsive, and loses no log entry."""
    database = node_config.database.removeprefix("sqlite:///")
    # This is about the log's path: quotas, which lease their tokens from the database too, are left out (a call
    # whose quota lease waits past its deadline is never decided, so nothing of it is logged: it received
    # nothing), and the purpose needs no consent (a new consent is registered in the database first, too).
    node.gateway.inquiries.quotas = None
    person = inquiry_pb2_grpc.InquiryServiceStub(connect("person"))
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # hold the one write lock
    try:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await person.Inquire(inquiry("public_lookup"), timeout=0.5)
        elapsed = time.monotonic() - started
        assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert elapsed < BLOCKED_LOOP_SECONDS, f"answered after {elapsed:.2f}s: the deadline was not honoured"
        # The event loop is not blocked by the waiting writer: other calls are served.
        catalog = await catalog_pb2_grpc.CatalogServiceStub(connect("person")).GetCatalog(
            catalog_pb2.GetCatalogRequest(), timeout=BLOCKED_LOOP_SECONDS
        )
        assert catalog.version == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # The inquiry's event still reaches the log once the lock is free.
    await eventually(lambda: node.gateway.store.count("events") > 0)
    [(_, body)] = node.gateway.store.events.read()
    assert Event.from_bytes(body).kind is EventKind.INQUIRY


async def test_a_second_node_cannot_silently_share_a_port(
    node: Node, node_config: NodeConfig, tmp_path: object
) -> None:
    taken = dataclasses.replace(
        node_config,
        listen=f"127.0.0.1:{node.port}",
        public_listen=None,
        database=node_config.database.replace("node.db", "other.db"),
    )
    with pytest.raises(RuntimeError):
        await start_node(taken)
