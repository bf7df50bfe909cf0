"""Log lines as a node writes them (``logging:`` in node.yaml): RFC 3339 UTC timestamps in text and JSON, the call's
request and event ids where known, the access line's fields, and settings refused with one line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from share_gateway.cli.logs import CallIds, JsonLines, TextLines, configure_logging, rfc3339
from share_gateway.config import NodeConfig
from share_gateway.config_operations import LoggingSettings, TracingSettings
from share_gateway.gateway.telemetry import CallNote, current_call, note_event

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# 2026-12-01T19:06:51.250Z
CREATED = 1796152011.25


def line(formatter: logging.Formatter, message: str = "hello %s", *args: object, **extra: object) -> str:
    record = logging.LogRecord("share_gateway.test", logging.WARNING, __file__, 1, message, args, None)
    record.created = CREATED
    record.__dict__.update(extra)
    CallIds().filter(record)
    return formatter.format(record)


@pytest.fixture
def in_a_call() -> Iterator[CallNote]:
    note = CallNote("/share_gateway.v1.InquiryService/Inquire", lambda: "client-chose-this")
    token = current_call.set(note)
    yield note
    current_call.reset(token)


def test_a_timestamp_is_rfc3339_in_utc_with_milliseconds() -> None:
    assert rfc3339(CREATED) == "2026-12-01T19:06:51.250Z"


def test_a_text_line_starts_with_its_timestamp_level_and_logger() -> None:
    assert line(TextLines(), "hello %s", "world") == "2026-12-01T19:06:51.250Z WARNING share_gateway.test hello world"


def test_a_text_line_in_a_call_names_the_request_and_its_event_and_shows_controls(in_a_call: CallNote) -> None:
    note_event("e-1")
    text = line(TextLines(), "peer said %s", "forged\nline")
    assert text.startswith("2026-12-01T19:06:51.250Z WARNING share_gateway.test [client-chose-this e-1] peer said ")
    assert "\n" not in text


def test_a_json_line_has_timestamp_level_logger_ids_and_the_fields_logged(in_a_call: CallNote) -> None:
    note_event("e-2")
    parsed = json.loads(line(JsonLines(), "%s %s", "a", "b", method="/x/Y", status="OK", duration_ms=1.5))
    assert parsed == {
        "timestamp": "2026-12-01T19:06:51.250Z",
        "level": "WARNING",
        "logger": "share_gateway.test",
        "message": "a b",
        "request_id": "client-chose-this",
        "event_id": "e-2",
        "method": "/x/Y",
        "status": "OK",
        "duration_ms": 1.5,
    }


def test_outside_a_call_a_line_has_no_ids_and_a_request_id_is_made_when_the_client_gave_none() -> None:
    assert set(json.loads(line(JsonLines()))) == {"timestamp", "level", "logger", "message"}
    made = CallNote("/m")
    assert made.request_id == made.request_id  # made once, then kept
    assert made.request_id != CallNote("/m").request_id


def test_configure_logging_writes_json_to_stderr_at_the_configured_levels(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        configure_logging(LoggingSettings(format="json", level="INFO", access_level="DEBUG"))
        logging.getLogger("share_gateway.access").debug("not written: below the node's level")
        logging.getLogger("share_gateway.node").info("serving")
        [written] = capsys.readouterr().err.splitlines()
        assert RFC3339_UTC.match(json.loads(written)["timestamp"])
        assert json.loads(written)["message"] == "serving"
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.setLevel(saved[0])
        for handler in saved[1]:
            root.addHandler(handler)


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"format": "xml"}, "logging.format: must be 'text' or 'json', not 'xml'"),
        ({"level": "LOUD"}, "logging.level: must be 'DEBUG', 'INFO'"),
        ({"access_level": 3}, "logging.access_level: must be 'DEBUG'"),
        ({"colour": True}, "logging.colour: unknown setting"),
    ],
)
def test_bad_logging_settings_are_refused_with_one_line(settings: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        LoggingSettings.from_mapping(settings)


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"enabled": "yes"}, "tracing.enabled: must be true or false"),
        ({"sample_ratio": 1.5}, "tracing.sample_ratio: must be at most 1"),
        ({"exporter": "jaeger"}, "tracing.exporter: unknown setting"),
    ],
)
def test_bad_tracing_settings_are_refused_with_one_line(settings: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        TracingSettings.from_mapping(settings)


def test_node_yaml_reads_the_logging_and_tracing_sections_and_defaults_to_text_info_and_no_tracing(
    tmp_path: Path,
) -> None:
    base = {
        "region": "110000",
        "listen": "127.0.0.1:0",
        "database": "sqlite:///node.db",
        "tls": {"certificate": "tls.crt", "key": "tls.key", "ca": "ca.crt"},
        "signing_key": "signing.key",
        "authority_key": "authority.pub",
        "catalog": "catalog.signed",
    }
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(base))
    plain = NodeConfig.load(path)
    assert plain.logging == LoggingSettings("text", "INFO", "INFO")
    assert not plain.tracing.enabled
    path.write_text(
        yaml.safe_dump(base | {"logging": {"format": "json", "access_level": "debug"}, "tracing": {"enabled": True}})
    )
    configured = NodeConfig.load(path)
    assert configured.logging == LoggingSettings("json", "INFO", "DEBUG")
    assert configured.tracing.enabled


def test_a_json_line_keeps_text_as_written() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    log = logging.getLogger("share_gateway.test.json")
    log.propagate = False
    log.addHandler(handler)
    try:
        log.warning("区域 %s", "110000")
    finally:
        log.removeHandler(handler)
    assert json.loads(stream.getvalue())["message"] == "区域 110000"
    assert "区域" in stream.getvalue()
