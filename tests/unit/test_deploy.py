"""The shipped example configuration loads as a node configuration."""

from __future__ import annotations

from pathlib import Path

from share_gateway.config import NodeConfig

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_postgres_example_is_a_valid_node_configuration() -> None:
    config = NodeConfig.load(DEPLOY / "node.postgres.yaml")
    assert config.region == "110000"
    assert config.database.startswith("postgresql+psycopg://")
    assert config.tls_certificate == DEPLOY / "tls.crt"
    assert config.public_listen == "0.0.0.0:7080"
    assert config.revocation_list == DEPLOY / "revocations.signed"
    assert config.administrators == ("sgw://person/110000198001010019",)
