"""The console's Chinese catalog covers every message its templates show, found as ``pybabel extract`` finds them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from babel.messages.extract import extract_from_dir

from share_gateway.console import records
from share_gateway.console.i18n import translator
from share_gateway.console.subject import DISPUTE_STATES, LISTING_STATES, MESSAGES, REGION_STATUSES
from share_gateway.domain.events import Outcome

TEMPLATES = Path(str(resources.files("share_gateway.console").joinpath("templates")))


def template_messages() -> set[str]:
    found = extract_from_dir(str(TEMPLATES), method_map=[("*.html", "jinja2.ext:babel_extract")])
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_every_message_of_the_templates_has_a_chinese_translation() -> None:
    # Shown translated from a value, not a literal: outcomes (_(row.outcome)), the subject pages' states and messages.
    shown = {o.value for o in Outcome} | set(DISPUTE_STATES.values()) | set(REGION_STATUSES.values()) | MESSAGES
    shown |= set(LISTING_STATES.values()) | {"notice", "review", "removal"}  # a listing's late step
    shown |= set(records.REPAIR_STATES.values()) | {"decision", "result", "reply"}  # a repair's late step
    messages = template_messages() | shown | records.MESSAGES | {"institution", "person", "node", "unknown"}
    assert len(messages) > 50
    chinese = translator("zh")
    assert sorted(m for m in messages if m not in chinese.messages) == []


def test_an_unknown_language_or_message_shows_english() -> None:
    assert translator("xx").gettext("Overview") == "Overview"
    assert translator("zh").gettext("Overview") == "概览"
    assert translator("zh").gettext("not a message id") == "not a message id"
    assert translator("zh").gettext("Events {first} to {last}", first=1, last=50) == "第 1 至 50 条事件"
