"""The gauges a scrape reads from the store say when the store does not answer (``DatabaseUnavailable``'s metric),
and recover with it; the counters the gateway keeps are scraped as they stand."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import urllib.request
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from share_gateway.config import NodeConfig
from share_gateway.config_operations import MetricsSettings
from share_gateway.node import Node, start_node


@pytest.fixture
async def scraped_node(node_config: NodeConfig) -> AsyncIterator[Node]:
    node = await start_node(dataclasses.replace(node_config, metrics=MetricsSettings("127.0.0.1:0")))
    yield node
    await node.stop(grace=0)


async def scrape(node: Node) -> dict[str, float]:
    """Unlabelled samples by name, as Prometheus reads them over HTTP."""

    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.metrics_port}/metrics", timeout=10) as response:
            return str(response.read().decode())

    families = text_string_to_metric_families(await asyncio.to_thread(get))
    return {s.name: s.value for f in families for s in f.samples if not s.labels}


def rename(database: Path, old: str, new: str) -> None:
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        connection.execute(f"ALTER TABLE {old} RENAME TO {new}")
        connection.commit()


async def test_a_store_that_does_not_answer_reads_as_database_down_and_back_up(
    scraped_node: Node, node_config: NodeConfig
) -> None:
    up = await scrape(scraped_node)
    assert up["share_gateway_database_up"] == 1
    assert "share_gateway_log_size" in up
    file = Path(node_config.database.removeprefix("sqlite:///"))
    # The log's tables gone from under the node, as far as a read can tell (a real failure, on the real file).
    rename(file, "log_entries", "log_entries_away")
    try:
        down = await scrape(scraped_node)
    finally:
        rename(file, "log_entries_away", "log_entries")
    assert down["share_gateway_database_up"] == 0
    assert "share_gateway_log_size" not in down
    assert "share_gateway_log_pending_events" not in down
    # Up again once the store answers, without a restart.
    assert (await scrape(scraped_node))["share_gateway_database_up"] == 1


@pytest.mark.postgres
async def test_the_store_gauges_read_postgresql_too(node_config: NodeConfig, fresh_postgres: str) -> None:
    config = dataclasses.replace(node_config, database=fresh_postgres, metrics=MetricsSettings("127.0.0.1:0"))
    node = await start_node(config)
    try:
        scraped = await scrape(node)
    finally:
        await node.stop(grace=0)
    assert scraped["share_gateway_database_up"] == 1
    log_gauges = {"share_gateway_log_size", "share_gateway_log_pending_events", "share_gateway_log_checkpoint_size"}
    assert log_gauges <= set(scraped)
    assert scraped["share_gateway_sequencer_alarm"] == 0


async def test_the_gateways_counters_are_scraped_as_they_stand(scraped_node: Node) -> None:
    recorder = scraped_node.gateway.recorder
    recorder.quota_refused("QUOTA_RATE")
    recorder.quota_refused("QUOTA_RATE")
    recorder.witness_cosigned("310000", 42, 1796152011)
    recorder.witness_asked("310000", 1796152999)  # asked again: what it cosigned stays
    recorder.witness_asked("440000", 1796150000)  # never cosigned: size 0 since first asked
    recorder.witness_asked("440000", 1796152999)

    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{scraped_node.metrics_port}/metrics", timeout=10) as reply:
            return str(reply.read().decode())

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(await asyncio.to_thread(get))
        for s in f.samples
    }
    assert samples["share_gateway_quota_refusals_total", (("reason", "QUOTA_RATE"),)] == 2
    assert samples["share_gateway_witness_cosigned_size", (("witness", "310000"),)] == 42
    assert samples["share_gateway_witness_cosigned_timestamp_seconds", (("witness", "310000"),)] == 1796152011
    assert samples["share_gateway_witness_cosigned_size", (("witness", "440000"),)] == 0
    assert samples["share_gateway_witness_cosigned_timestamp_seconds", (("witness", "440000"),)] == 1796150000
