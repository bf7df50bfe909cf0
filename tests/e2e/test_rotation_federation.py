"""Key rotation in a running federation: each region's node in its own process. A region rotates its signing key
and every node restarts on the new manifest; the records that region signed before still reach the asking node,
verified against the key in force when they were recorded. The rule is the project's (issue 13) (unverified)."""

from __future__ import annotations

from pathlib import Path

import pytest

from share_gateway.client import verify_record_disclosure
from share_gateway.crypto.keys import KeyRing
from share_gateway.federation.manifest import open_manifest
from tests.e2e.conftest import run
from tests.federation import OK, REGIONS, federated, seed, statuses
from tests.processes import federation_cluster
from tests.waiting import PROCESS_TEST_SECONDS

ASKER, ROTATING, OTHER = REGIONS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


async def test_records_a_region_signed_before_rotating_its_key_still_reach_the_asking_node(tmp_path: Path) -> None:
    with federation_cluster(tmp_path / "federation") as cluster:
        layout = cluster.layout
        await seed(layout, cluster.ports)
        before = await federated(layout, cluster.ports[ASKER])
        assert statuses(before) == dict.fromkeys(REGIONS, OK)
        old = layout.node_verifying_key(ROTATING)
        run("federation", "rotate-key", "--federation", str(layout.root), "--region", ROTATING, "--key", "signing")
        for region in REGIONS:
            cluster.processes.pop(region).stop()
        cluster.start(*REGIONS)
        after = await federated(layout, cluster.ports[ASKER])
        assert statuses(after) == dict.fromkeys(REGIONS, OK), [r.detail for r in after.regions]
        assert len(after.records) == len(before.records) == 3
        manifest = open_manifest(layout.manifest.read_bytes(), KeyRing([layout.authority().verifying_key])).manifest
        assert manifest.nodes[ROTATING].signing_key.key_id != old.key_id
        origins: dict[str, str] = {}
        for message in after.records:
            verified = verify_record_disclosure(message, manifest.keys)  # the library, with the new manifest
            origins[verified.statement.origin_region] = message.statement.key_id
        assert origins[ROTATING] == old.key_id.hex(), "the record is the statement the retired key signed"
