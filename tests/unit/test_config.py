"""node.yaml, the environment and secret files read into a typed configuration; each wrong setting is one line
naming its key (issue 14, point 7: each test below is one weakness the old loader had)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from share_gateway.cli.logs import JsonLines
from share_gateway.config import NodeConfig
from share_gateway.store.database import open_configured

MINIMAL: dict[str, Any] = {
    "region": "110000",
    "listen": "127.0.0.1:7443",
    "database": "sqlite:///node.db",
    "tls": {"certificate": "tls.crt", "key": "tls.key", "ca": "ca.crt"},
    "signing_key": "signing.key",
    "authority_key": "authority.pub",
    "catalog": "catalog.signed",
}
SECRET_URL = "postgresql+psycopg://app:s3cret-pw@db.internal:5432/share_gateway"


def write(
    tmp_path: Path, settings: dict[str, Any] | None = None, *, without: str = "", name: str = "node.yaml"
) -> Path:
    """A node.yaml of the minimal settings, ``settings`` laid over them, ``without`` one left out."""
    raw = {**MINIMAL, **(settings or {})}
    raw.pop(without, None)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return path


def load(path: Path, environ: dict[str, str] | None = None) -> NodeConfig:
    """The configuration at ``path`` (and ``environ``: else the process's, where only the suite's own
    ``SHARE_GATEWAY_TEST_*`` may be set)."""
    return NodeConfig.load(path) if environ is None else NodeConfig.load(path, environ)


def refused(path: Path, environ: dict[str, str] | None = None) -> str:
    """The one line the configuration is refused with."""
    with pytest.raises(ValueError) as raised:
        load(path, environ)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_the_minimal_file_loads_with_paths_beside_it_and_the_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path))
    assert config.database == f"sqlite:///{tmp_path / 'node.db'}"
    assert config.tls_certificate == tmp_path / "tls.crt"
    assert config.ca_certificate == tmp_path / "ca.crt"
    assert (config.public_plaintext, config.log.sequencer, config.connections.pool_size) == (False, True, 8)
    assert config.logging.format == "text"


def test_a_missing_setting_is_one_line_naming_it_not_a_key_error(tmp_path: Path) -> None:
    """Was ``KeyError: 'database'``, a traceback."""
    assert refused(write(tmp_path, without="database")) == "database: is required"
    assert refused(write(tmp_path, {"tls": {"certificate": "tls.crt", "key": "tls.key"}})) == "tls.ca: is required"


def test_a_yaml_syntax_error_is_one_line_with_where_it_is(tmp_path: Path) -> None:
    """Was a ``yaml.scanner.ScannerError`` traceback."""
    path = tmp_path / "node.yaml"
    path.write_text('region: "110000"\nlisten: [127.0.0.1:7443\ndatabase: x\n')
    assert refused(path).startswith("not valid YAML: line 3, column 9:")
    path.write_text("- a list\n- of things\n")
    assert refused(path) == "must be a mapping of settings (key: value), not a list"
    with pytest.raises(ValueError, match=r"absent\.yaml: cannot read: No such file"):
        load(tmp_path / "absent.yaml")


def test_a_database_url_of_wrong_syntax_is_refused_at_load_without_echoing_it(tmp_path: Path) -> None:
    """Was accepted, then a traceback from SQLAlchemy at start; the URL may hold a password, so it is not shown."""
    for url, problem in (
        ("postgresql+psycopg://app:s3cret-pw@db:54x2/sg", "is not a database URL"),
        ("s3cret-pw", "is not a database URL"),
        ("postgresql://app:s3cret-pw@db/sg", "'postgresql' is not supported"),
        ("sqlite://", "must name a SQLite file"),
    ):
        message = refused(write(tmp_path, {"database": url}))
        assert message.startswith(f"database: {problem}")
        assert "s3cret" not in message


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"databse": "sqlite:///x.db"}, "databse"),
        ({"tls": {**MINIMAL["tls"], "crt": "x"}}, "tls.crt"),
        ({"log": {"checkpoint_every_leave": 5}}, "log.checkpoint_every_leave"),
        ({"connections": {"pool": 3}}, "connections.pool"),
        ({"quotas": {"harvesting": {"window": 60}}}, "quotas.harvesting.window"),
        ({"quotas": {"overrides": [{"requester": "x", "purpose": "p", "per_dya": 1}]}}, "quotas.overrides.0.per_dya"),
    ],
)
def test_an_unknown_key_is_refused_in_every_section(tmp_path: Path, settings: dict[str, Any], key: str) -> None:
    """Was ignored at the top level and in ``tls``: a misspelt setting silently kept its default."""
    assert refused(write(tmp_path, settings)).startswith(f"{key}: ")


def test_booleans_are_true_or_false_never_a_text(tmp_path: Path) -> None:
    """``public_plaintext: "false"`` was read as true (``bool("false")``): the public port served without TLS."""
    assert refused(write(tmp_path, {"public_plaintext": "false"})) == (
        "public_plaintext: must be true or false (unquoted), not 'false'"
    )
    assert refused(write(tmp_path, {"log": {"sequencer": "no"}})).startswith("log.sequencer: must be true or false")
    assert load(write(tmp_path, {"public_plaintext": True})).public_plaintext is True


def test_a_number_setting_given_a_word_is_refused_at_load_not_at_every_step(tmp_path: Path) -> None:
    """``checkpoint_interval_seconds: "fast"`` started a node whose every sequencer step then failed."""
    assert refused(write(tmp_path, {"log": {"checkpoint_interval_seconds": "fast"}})) == (
        "log.checkpoint_interval_seconds: must be a number, not 'fast'"
    )
    assert refused(write(tmp_path, {"log": {"checkpoint_every_leaves": 0}})) == (
        "log.checkpoint_every_leaves: must be at least 1, not 0"
    )
    assert refused(write(tmp_path, {"max_message_bytes": "1MB"})) == (
        "max_message_bytes: must be a whole number, not '1MB'"
    )
    # Two wrong settings: both named, still on one line.
    assert refused(write(tmp_path, {"principal_ttl_seconds": -1, "log": {"history_days": 1.5}})) == (
        "principal_ttl_seconds: must be above 0, not -1; log.history_days: must be a whole number, not 1.5"
    )


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    """Nothing was read from the environment."""
    environ = {
        "SHARE_GATEWAY_DATABASE": SECRET_URL,
        "SHARE_GATEWAY_LOG__CHECKPOINT_EVERY_LEAVES": "500",
        "SHARE_GATEWAY_PUBLIC_PLAINTEXT": "true",
        "SHARE_GATEWAY_TLS__CERTIFICATE": "mounted/tls.crt",
        "SHARE_GATEWAY_ADMINISTRATORS": "[sgw://person/110000198001010019]",
        "SHARE_GATEWAY_PUBLIC_LISTEN": "[::]:7080",  # no YAML: read as the text it is
        "SHARE_GATEWAY_METRICS__LISTEN": "",  # empty: the default, as a key left empty in the file
        "SHARE_GATEWAY_TEST_POSTGRES": "the test suite's own variable, no setting",
        "OTHER": "ignored",
    }
    config = NodeConfig.load(write(tmp_path, {"log": {"sequencer": False}}), environ)
    assert config.database == SECRET_URL
    assert (config.log.checkpoint_every_leaves, config.log.sequencer, config.public_plaintext) == (500, False, True)
    assert config.tls_certificate == tmp_path / "mounted" / "tls.crt"
    assert config.administrators == ("sgw://person/110000198001010019",)
    assert (config.public_listen, config.metrics.listen) == ("[::]:7080", None)
    path = write(tmp_path)
    assert refused(path, {"SHARE_GATEWAY_LOG__CHECKPOINT_INTERVAL_SECONDS": "fast"}) == (
        "log.checkpoint_interval_seconds (from SHARE_GATEWAY_LOG__CHECKPOINT_INTERVAL_SECONDS): must be a number, "
        "not 'fast'"
    )
    assert refused(path, {"SHARE_GATEWAY_DATABSE": "x"}) == "databse (from SHARE_GATEWAY_DATABSE): unknown setting"
    assert refused(path, {"SHARE_GATEWAY_REGION__CODE": "1"}) == "SHARE_GATEWAY_REGION__CODE: region is no section"


def test_a_secret_is_read_from_a_file_as_kubernetes_mounts_it(tmp_path: Path) -> None:
    """``database_file:`` or ``SHARE_GATEWAY_DATABASE_FILE``: the file's text, its final newline off."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "database").write_text(SECRET_URL + "\n")
    from_file = write(tmp_path, {"database_file": "secrets/database"}, without="database", name="secret.yaml")
    assert load(from_file).database == SECRET_URL
    mounted = {"SHARE_GATEWAY_DATABASE_FILE": str(tmp_path / "secrets" / "database")}
    assert NodeConfig.load(write(tmp_path), mounted).database == SECRET_URL  # the variable wins over the file's
    both = write(tmp_path, {"database_file": "secrets/database"})
    assert refused(both) == "database_file: give database or its secret file, not both"
    assert refused(write(tmp_path), {"SHARE_GATEWAY_DATABASE_FILE": "absent"}) == (
        f"SHARE_GATEWAY_DATABASE_FILE: cannot read {tmp_path / 'absent'}: No such file or directory"
    )
    for variable, setting in (
        ("SHARE_GATEWAY_SIGNING_KEY_FILE", "signing_key"),
        ("SHARE_GATEWAY_TLS__KEY_FILE", "tls.key"),
    ):
        # A key's path is given as the setting itself: its PEM taken for a path would end up in an error message.
        assert refused(write(tmp_path), {variable: "secrets/database"}) == (
            f"{variable}: {setting} is already a file's path: give the path as {setting} itself"
        )
    (tmp_path / "secrets" / "database").write_text("postgresql://app:s3cret-pw@db/sg\n")
    message = refused(from_file)
    assert message.startswith(f"database (from secret database_file {tmp_path / 'secrets' / 'database'}): ")
    assert "s3cret" not in message
    (tmp_path / "secrets" / "ttl").write_text("s3cret\n")  # whatever a secret file holds is never shown
    ttl = refused(write(tmp_path, {"principal_ttl_seconds_file": "secrets/ttl"}, without="principal_ttl_seconds"))
    assert ttl == f"principal_ttl_seconds (from secret principal_ttl_seconds_file {tmp_path / 'secrets/ttl'}): " + (
        "must be a number"
    )


def test_the_pool_size_and_timeouts_are_configured_and_reach_the_store(tmp_path: Path) -> None:
    """The pool was fixed at 8 + 8 connections per process."""
    settings = {
        "database": "postgresql+psycopg://app@db.internal/share_gateway",
        "connections": {"pool_size": 3, "pool_timeout_seconds": 5, "statement_timeout_seconds": 1.5},
    }
    config = load(write(tmp_path, settings))
    database = open_configured(config)  # no connection is made until one is used
    try:
        pool: Any = database.writer.pool
        assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 3, 5)
    finally:
        database.dispose()
    assert refused(write(tmp_path, {"connections": {"pool_size": 0}})) == (
        "connections.pool_size: must be at least 1, not 0"
    )
    sqlite = open_configured(load(write(tmp_path, {"connections": {"pool_size": 2}})))
    try:
        assert sqlite.reader.pool.size() == 2  # type: ignore[attr-defined]
    finally:
        sqlite.dispose()


def test_the_region_is_a_gbt_2260_division_in_force(tmp_path: Path) -> None:
    """Any six digits passed (999999 would start a node for a region nobody knows); now python-stdnum's table."""
    assert refused(write(tmp_path, {"region": "999999"})) == "region: '999999' names no GB/T 2260 division in force"
    assert refused(write(tmp_path, {"region": "110103"})).endswith("names no GB/T 2260 division in force")  # 2010
    assert refused(write(tmp_path, {"region": "11000"})) == "region: '11000' is not a GB/T 2260 six-digit division code"
    assert load(write(tmp_path, {"region": 310000})).region == "310000"  # unquoted in YAML


def test_the_log_format_is_text_or_json(tmp_path: Path) -> None:
    assert load(write(tmp_path, {"logging": {"format": "json"}})).logging.format == "json"
    assert refused(write(tmp_path, {"logging": {"format": "xml"}})) == (
        "logging.format: must be 'text' or 'json', not 'xml'"
    )
    record = logging.LogRecord("share_gateway", logging.WARNING, __file__, 1, "peer said %s", ("a\nb",), None)
    line = JsonLines().format(record)
    assert "\n" not in line
    assert json.loads(line)["message"] == "peer said a\nb"


def test_a_configuration_changed_in_code_is_checked_as_a_loaded_one(tmp_path: Path) -> None:
    """``dataclasses.replace`` (the tests' way to change one setting) builds through the same checks."""
    config = load(write(tmp_path))
    assert dataclasses.replace(config, database=SECRET_URL).database == SECRET_URL
    text: Any = "false"  # as an untyped caller might pass it; mypy would refuse it written in place
    with pytest.raises(ValueError, match="public_plaintext"):
        dataclasses.replace(config, public_plaintext=text)
