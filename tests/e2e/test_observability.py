"""Issue 14, "No observability": metrics scraped from running nodes, one JSON access line per call, alert rules
that name only metrics a node exports.

Two regions serve, each `share-gateway serve` in its own process with metrics on a free port and JSON logs; the
third region of the manifest is down, so its calls fail as an operator would see them. One module shares the
nodes: each test reads what the inquiries made in ``asked`` left behind.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from share_gateway.api.observe import REQUEST_ID
from share_gateway.v1 import inquiry_pb2_grpc, registry_pb2_grpc
from tests.federation import OK, UNAVAILABLE, channel, federated, seed, statuses
from tests.processes import Cluster, federation_cluster
from tests.support import debtor_request, inquiry
from tests.waiting import wait_until

ASKING, ANSWERING, DOWN = "110000", "310000", "440000"
INQUIRE = "/share_gateway.v1.InquiryService/Inquire"
FEDERATED_INQUIRIES = 3
BANK = "sgw://institution/91110000MA0000001L"
UTILITY = "sgw://institution/91310000MA00000025"
# The utility may ask once a day here: its second inquiry is refused for its quota.
QUOTAS = {"overrides": [{"requester": UTILITY, "purpose": "utility_connection", "per_day": 1}]}
# Every Inquire call ``ask`` makes at the asking node: the bank's, its invalid one, and the utility's two.
INQUIRE_CALLS = FEDERATED_INQUIRIES + 1 + 2
ALERTS = Path(__file__).parents[2] / "deploy" / "prometheus" / "alerts.yaml"
# RFC 3339, UTC: 2026-12-01T19:06:51.123Z
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@dataclass
class Observed:
    cluster: Cluster
    # The scrapes of both nodes once the inquiries were answered.
    asking: list[Sample]
    answering: list[Sample]
    exported: set[str]


def metrics_port(cluster: Cluster, region: str) -> int:
    found = re.search(r"metrics port (\d+)", "".join(cluster.processes[region].output))
    assert found is not None, "the node did not say its metrics port"
    return int(found.group(1))


def scrape(port: int) -> tuple[list[Sample], set[str]]:
    """Every sample the node serves at /metrics over real HTTP, and every name a rule may use for its metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    families = list(text_string_to_metric_families(text))
    names = {f.name for f in families} | {s.name for f in families for s in f.samples}
    # A family with no sample yet (no dead letter so far) still names what a rule may match.
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    names |= {f.name + suffix for f in families for suffix in suffixes.get(f.type, ())}
    return [s for f in families for s in f.samples], names


def value(samples: list[Sample], name: str, **labels: str) -> float:
    matching = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matching) == 1, f"{name}{labels}: {matching}"
    return matching[0]


async def ask(cluster: Cluster) -> None:
    """Federated inquiries the third region cannot answer, one for a purpose no catalog lists, and a record shared
    nationwide, which waits in the outbox for the region that is down."""
    await seed(cluster.layout, {ASKING: cluster.ports[ASKING], ANSWERING: cluster.ports[ANSWERING]})
    async with channel(cluster.layout, cluster.ports[ASKING], "court") as court:
        await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(debtor_request(), timeout=10)
    for _ in range(FEDERATED_INQUIRIES):
        answer = await federated(cluster.layout, cluster.ports[ASKING])
        assert statuses(answer) == {ASKING: OK, ANSWERING: OK, DOWN: UNAVAILABLE}
    async with channel(cluster.layout, cluster.ports[ASKING], "bank") as bank:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(inquiry("fortune_telling"), timeout=10)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    async with channel(cluster.layout, cluster.ports[ASKING], "utility") as utility:
        stub = inquiry_pb2_grpc.InquiryServiceStub(utility)
        # The client names its call; what could forge or break a line is left out of the id.
        await stub.Inquire(inquiry("utility_connection"), timeout=10, metadata=((REQUEST_ID, 'utility-1 <"x">'),))
        with pytest.raises(grpc.aio.AioRpcError) as exhausted:
            await stub.Inquire(inquiry("utility_connection"), timeout=10)
    assert exhausted.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    settings = {"metrics": {"listen": "127.0.0.1:0"}, "logging": {"format": "json"}, "quotas": QUOTAS}
    root = tmp_path_factory.mktemp("observed")
    with federation_cluster(root, start=(ASKING, ANSWERING), prepared=(ASKING, ANSWERING), settings=settings) as c:
        asyncio.run(ask(c))
        asking, exported = scrape(metrics_port(c, ASKING))
        answering, _ = scrape(metrics_port(c, ANSWERING))
        yield Observed(c, asking, answering, exported)


def test_inquiries_are_counted_by_purpose_and_outcome_on_both_sides(observed: Observed) -> None:
    asked = {"purpose": "loan_underwriting", "via": "client"}
    assert value(observed.asking, "share_gateway_inquiries_total", **asked, outcome="allowed") == FEDERATED_INQUIRIES
    # A purpose no catalog lists is counted, under one label: a caller cannot grow the label set.
    refused = {"purpose": "unknown", "via": "client", "outcome": "invalid"}
    assert value(observed.asking, "share_gateway_inquiries_total", **refused) == 1
    forwarded = {"purpose": "loan_underwriting", "via": "peer", "outcome": "allowed"}
    assert value(observed.answering, "share_gateway_inquiries_total", **forwarded) == FEDERATED_INQUIRIES
    utility = {"purpose": "utility_connection", "via": "client"}
    assert value(observed.asking, "share_gateway_inquiries_total", **utility, outcome="allowed") == 1
    assert value(observed.asking, "share_gateway_inquiries_total", **utility, outcome="exhausted") == 1
    assert value(observed.asking, "share_gateway_quota_refusals_total", reason="QUOTA_DAILY_VOLUME") == 1


def test_each_rpc_has_a_latency_histogram_and_a_count_per_status(observed: Observed) -> None:
    samples, calls = observed.asking, INQUIRE_CALLS
    assert value(samples, "share_gateway_rpc_duration_seconds_count", method=INQUIRE) == calls
    buckets = sorted(
        (float(s.labels["le"]), s.value)
        for s in samples
        if s.name == "share_gateway_rpc_duration_seconds_bucket" and s.labels["method"] == INQUIRE
    )
    assert len(buckets) > 10
    assert [count for _, count in buckets] == sorted(count for _, count in buckets)  # cumulative
    assert buckets[-1] == (float("inf"), calls)
    assert buckets[0][1] < calls  # a federated inquiry takes more than the first bucket's half millisecond
    assert value(samples, "share_gateway_rpc_duration_seconds_sum", method=INQUIRE) > 0
    handled = {
        code: value(samples, "share_gateway_rpc_handled_total", method=INQUIRE, code=code)
        for code in ("OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED")
    }
    assert handled == {"OK": FEDERATED_INQUIRIES + 1, "INVALID_ARGUMENT": 1, "RESOURCE_EXHAUSTED": 1}
    peer_inquire = "/share_gateway.v1.PeerService/Inquire"
    assert value(observed.answering, "share_gateway_rpc_handled_total", method=peer_inquire, code="OK") == 3


def test_peer_calls_log_and_outbox_are_exported(observed: Observed) -> None:
    samples = observed.asking
    ok = value(samples, "share_gateway_peer_calls_total", peer=ANSWERING, method="Inquire", code="OK")
    assert ok == FEDERATED_INQUIRIES
    down = value(samples, "share_gateway_peer_calls_total", peer=DOWN, method="Inquire", code="UNAVAILABLE")
    assert down == FEDERATED_INQUIRIES
    assert value(samples, "share_gateway_peer_call_seconds_total", peer=ANSWERING, method="Inquire", code="OK") > 0
    assert value(samples, "share_gateway_database_up") == 1
    # Every inquiry and the record are logged; the log's size and lag add up to what was appended.
    logged = value(samples, "share_gateway_log_size") + value(samples, "share_gateway_log_pending_events")
    assert logged >= FEDERATED_INQUIRIES + 2
    assert value(samples, "share_gateway_sequencer_alarm") == 0
    # The record waits for the region that is down (until it comes back).
    assert value(samples, "share_gateway_outbox_pending", peer=DOWN) >= 1


def test_what_each_witness_last_cosigned_is_exported(observed: Observed) -> None:
    """The answering region witnesses the asking one's log (every node has a witness key): its cosignature of a
    checkpoint shows, with the time it states; the region that is down cosigned nothing, and shows as size 0
    since it was first asked, so that WitnessSilent can fire for it."""
    port = metrics_port(observed.cluster, ASKING)
    found: dict[str, float] = {}

    def cosigned() -> bool:
        samples, _ = scrape(port)
        found.update({s.name: s.value for s in samples if s.labels.get("witness") == ANSWERING})
        return found.get("share_gateway_witness_cosigned_size", 0) > 0

    wait_until(cosigned)
    stated = datetime.fromtimestamp(found["share_gateway_witness_cosigned_timestamp_seconds"], UTC)
    assert abs(datetime.now(UTC) - stated).total_seconds() < 3600
    samples, _ = scrape(port)
    down = {s.name: s.value for s in samples if s.labels.get("witness") == DOWN}
    assert down["share_gateway_witness_cosigned_size"] == 0
    asked = datetime.fromtimestamp(down["share_gateway_witness_cosigned_timestamp_seconds"], UTC)
    assert abs(datetime.now(UTC) - asked).total_seconds() < 3600


def access_lines(observed: Observed, region: str) -> list[dict[str, Any]]:
    """The node's access lines: JSON objects on its stderr from the ``share_gateway.access`` logger."""
    lines = [json.loads(line) for line in observed.cluster.processes[region].output if line.startswith("{")]
    return [line for line in lines if line["logger"] == "share_gateway.access"]


def test_every_call_has_one_json_access_line_with_a_timestamp_and_the_ids_it_has(observed: Observed) -> None:
    calls = [line for line in access_lines(observed, ASKING) if line["method"] == INQUIRE]
    assert len(calls) == INQUIRE_CALLS
    utility = sorted((line["status"], line["request_id"]) for line in calls if line["requester"] == UTILITY)
    assert utility[0] == ("OK", "utility-1x")
    assert utility[1][0] == "RESOURCE_EXHAUSTED"
    inquiries = [line for line in calls if line["requester"] == BANK]
    for line in inquiries:
        assert RFC3339_UTC.match(line["timestamp"]), line
        assert abs(datetime.now(UTC) - datetime.fromisoformat(line["timestamp"])).total_seconds() < 3600
        assert line["level"] == "INFO"
        assert line["duration_ms"] > 0
        assert line["request_id"]
        assert line["event_id"], "an inquiry, allowed or refused, is an event in the log"
    assert sorted(line["status"] for line in inquiries) == ["INVALID_ARGUMENT"] + ["OK"] * FEDERATED_INQUIRIES
    assert len({line["request_id"] for line in inquiries}) == len(inquiries)
    assert len({line["event_id"] for line in inquiries}) == len(inquiries)
    # The answering region logs the forwarded inquiries as calls from the asking node.
    forwarded = [line for line in access_lines(observed, ANSWERING) if line["method"].endswith("PeerService/Inquire")]
    assert [line["requester"] for line in forwarded] == [f"sgw://node/{ASKING}"] * FEDERATED_INQUIRIES


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_alert_rules_use_only_metrics_the_node_exports(observed: Observed) -> None:
    rules = alert_rules()
    used = {name for rule in rules for name in re.findall(r"\bshare_gateway_[a-z_]+\b", rule["expr"])}
    assert used, "the rules name no metric of the node"
    assert used <= observed.exported, f"not exported: {sorted(used - observed.exported)}"
    expected = {
        "SequencerLagging",
        "SequencerAlarm",
        "RestoreUnacknowledged",
        "OutboxBacklog",
        "DeadLetters",
        "WitnessSilent",
        "TrustMaterialExpiring",
        "DatabaseUnavailable",
        "ErrorRate",
    }
    assert expected <= {rule["alert"] for rule in rules}
    for rule in rules:
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["runbook"].startswith("docs/operations.md#")
