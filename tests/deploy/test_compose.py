"""Issue 14 ("no compose file"): deploy/compose.yaml runs three regions, each with PostgreSQL, a migration that
finishes before the nodes start, and two replicas of the node; it is valid under the compose specification's JSON
schema (vendored in deploy/schemas/ with its source), and each node's configuration loads as a node's."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from share_gateway.config import NodeConfig

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REGIONS = ("110000", "310000", "440000")
SCHEMA_DIGEST = "91ae91d24640d45634c9d4b5f4e3a5ce1b6b6da38bc06b27e2a04891f81f32da"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def errors(document: dict[str, Any]) -> list[str]:
    schema_file = DEPLOY / "schemas" / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_vendored_schema_is_the_one_its_readme_names() -> None:
    digest = hashlib.sha256((DEPLOY / "schemas" / "compose-spec.json").read_bytes()).hexdigest()
    assert digest == SCHEMA_DIGEST
    assert SCHEMA_DIGEST in (DEPLOY / "schemas" / "README.md").read_text()


def test_the_compose_file_is_valid_under_the_compose_specification() -> None:
    assert errors(compose()) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c["services"]["node-110000"].update(replica=2),  # a misspelt key
        lambda c: c["services"]["node-110000"]["deploy"].update(replicas=[2]),
        lambda c: c["services"]["node-110000"]["depends_on"]["migrate-110000"].update(condition="finished"),
        lambda c: c.update(service={}),
    ],
)
def test_the_schema_refuses_a_broken_compose_file(breakage: object) -> None:
    broken = copy.deepcopy(compose())
    assert callable(breakage)
    breakage(broken)
    assert errors(broken) != []


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_has_its_database_a_migration_first_and_two_replicas(region: str) -> None:
    services = compose()["services"]
    database, migration, node = (services[f"{kind}-{region}"] for kind in ("postgres", "migrate", "node"))
    assert database["image"].startswith("postgres:")
    assert migration["image"] == node["image"] == "share-gateway:0.1.0"
    assert migration["command"][:1] == ["migrate"]
    assert migration["restart"] == "no", "a one-shot"
    assert migration["depends_on"] == {f"postgres-{region}": {"condition": "service_healthy"}}
    assert node["command"][:1] == ["serve"]
    assert node["depends_on"] == {f"migrate-{region}": {"condition": "service_completed_successfully"}}
    assert node["deploy"]["replicas"] == 2
    assert "8081" in " ".join(node["healthcheck"]["test"])
    assert f"region-{region}" in database["networks"]
    assert f"region-{region}" in node["networks"]
    assert "federation" in node["networks"]
    assert "federation" not in database["networks"], "a region's database is its own"


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_node_configuration_loads(region: str, tmp_path: Path) -> None:
    document = compose()
    [mounted] = document["services"][f"node-{region}"]["configs"]
    config_file = tmp_path / "node.yaml"
    config_file.write_text(document["configs"][mounted["source"]]["content"])
    config = NodeConfig.load(config_file)
    assert config.region == region
    assert config.database == f"postgresql+psycopg://share_gateway@postgres-{region}:5432/share_gateway"
    assert ":" not in config.database.split("@")[0].removeprefix("postgresql+psycopg://"), "no password in it"
    assert config.manifest is not None
    assert config.witness_key is not None


def test_every_referenced_secret_config_and_volume_is_declared() -> None:
    document = compose()
    for name, service in document["services"].items():
        for secret in service.get("secrets", []):
            source = secret if isinstance(secret, str) else secret["source"]
            assert source in document["secrets"], (name, source)
        for config in service.get("configs", []):
            assert config["source"] in document["configs"], (name, config)
        for network in service.get("networks", []):
            assert network in document["networks"], (name, network)
        for volume in service.get("volumes", []):
            if isinstance(volume, str):
                assert volume.split(":")[0] in document["volumes"], (name, volume)
