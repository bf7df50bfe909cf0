"""Terminal output: untrusted text reaches the terminal as literal, visible text, and piped output is never cut."""

from __future__ import annotations

import io
import logging

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType

from share_gateway.cli.console import inert, line, log_to_stderr, show, table
from share_gateway.cli.views import listing_view, record_view, rpc_error_view
from share_gateway.v1 import common_pb2

MARKUP = "[bold red]x[/]"
ANSI = "\x1b[31mred\x1b[0m"
RTL_OVERRIDE = "\u202eevil.exe"


def on_a_terminal(renderable: RenderableType) -> str:
    """What a colour terminal would be sent: every escape sequence rich itself emits is in here."""
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=200).print(renderable)
    return out.getvalue()


def test_markup_in_a_value_is_shown_not_interpreted() -> None:
    shown = on_a_terminal(table(["reason"], [(MARKUP,)]))
    assert MARKUP in shown
    assert "\x1b[1;31m" not in shown, "the value turned bold red"


def test_an_ansi_sequence_in_a_value_is_shown_not_sent() -> None:
    shown = on_a_terminal(table(["reason"], [(ANSI,)]))
    assert "\x1b[31m" not in shown
    assert "\u241b[31mred\u241b[0m" in shown


def test_a_right_to_left_override_is_shown_not_obeyed() -> None:
    shown = on_a_terminal(line(RTL_OVERRIDE))
    assert "\u202e" not in shown
    assert "\\u202eevil.exe" in shown


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ("\x00", "\u2400"),
        ("\n", "\u240a"),
        ("\r", "\u240d"),
        ("\x07", "\u2407"),
        ("\x7f", "\u2421"),
        ("\x9b31m", "\\x9b31m"),
        ("\x85", "\\x85"),
        ("\u061c", "\\u061c"),
        ("\u200e\u200f", "\\u200e\\u200f"),
        ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"),
        ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
    ],
)
def test_every_control_becomes_a_visible_placeholder(raw: str, visible: str) -> None:
    assert line(raw).plain == visible


PRINTABLE = ["京市监罚〔2026〕7号", "a[b]c", "[/]", "\\[x]", "a backslash\\", "two\\\\", ":smile:", "[link=x]y[/link]"]


@pytest.mark.parametrize("text", PRINTABLE)
def test_printable_text_comes_through_unchanged(text: str) -> None:
    assert line(text).plain == text
    assert Console().render_str(inert(text), emoji=False).plain == text


def test_views_make_a_node_s_values_inert() -> None:
    record = common_pb2.Record(
        record_id="r-1",
        record_type="administrative_penalty",
        subject=common_pb2.Subject(identifier="91110105MA01ABCD00"),
        fields={"violation_facts": common_pb2.FieldValue(text=MARKUP + ANSI + RTL_OVERRIDE)},
    )
    shown = on_a_terminal(record_view(record))
    assert MARKUP in shown
    assert "\x1b[31m" not in shown
    assert "\u202e" not in shown


def test_an_error_s_details_are_inert() -> None:
    class Refused:
        """What the view reads of an AioRpcError, without a channel."""

        def code(self) -> object:
            return type("Code", (), {"name": "INVALID_ARGUMENT"})()

        def details(self) -> str:
            return f"{MARKUP}\nOK: fake line"

        def trailing_metadata(self) -> tuple[()]:
            return ()

    shown = on_a_terminal(rpc_error_view(Refused(), lead="share-gateway: the node refused: "))  # type: ignore[arg-type]
    assert f"INVALID_ARGUMENT: {MARKUP}\u240aOK: fake line" in shown


def test_piped_output_keeps_long_values_whole(capsys: pytest.CaptureFixture[str]) -> None:
    digest = "ab" * 200
    show(table(["digest", "reason"], [(digest, "严重虚假宣传" * 30)]))
    out = capsys.readouterr().out
    assert digest in out
    assert "严重虚假宣传" * 30 in out


def test_chinese_text_lines_up(capsys: pytest.CaptureFixture[str]) -> None:
    show(
        table(["field", "value"], [("party_name", "北京恒信科技有限公司"), ("penalty", "罚款"), ("amount", "12000.00")])
    )
    printed = capsys.readouterr().out.splitlines()
    assert len({cell_len(row) for row in printed}) == 1, printed
    assert len({row.index("│", 1) for row in printed if row.startswith("│")}) == 1, "the column rule is at one place"


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ("AUTH\u200b-1", "AUTH\\u200b-1"),  # a zero-width space: a value that looks like another
        ("\ufeffx", "\\ufeffx"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),  # line and paragraph separators
        ("\U000e0041\U000e007f", "\\U000e0041\\U000e007f"),  # tag characters
        ("\ud800", "\\ud800"),  # a lone surrogate (from a JSON escape) could not even be encoded
        ("\ue000", "\\ue000"),
    ],
)
def test_invisible_format_and_separator_characters_are_shown(raw: str, visible: str) -> None:
    assert line(raw).plain == visible


def test_a_lone_surrogate_prints_rather_than_failing_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    show(table(["reason"], [("\udcff",)]))
    assert "\\udcff" in capsys.readouterr().out.encode("utf-8").decode()


def test_a_log_message_cannot_forge_a_line_or_send_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    """A peer's text in a node's warning (a witness's refusal, a revocation list's error) reaches the log as is."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers = []
    try:
        log_to_stderr(verbose=False)
        logging.getLogger("share_gateway.gateway.witness").warning(
            "witness %s did not cosign: %s", "440000", "\x1b]0;owned\x07\x1b[2J\nERROR forged line \u202eexe.txt"
        )
    finally:
        root.handlers, root.level = handlers, level
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "\x1b" not in err
    assert "\u202e" not in err
    assert "\u241b]0;owned\u2407\u241b[2J\u240aERROR forged line \\u202eexe.txt" in err


def test_a_listing_view_states_the_repair_notice_served_with_the_decision() -> None:
    """两书同达 (State Council General Office 2025 No. 22): the listing decision is shown with its repair notice."""
    listing = common_pb2.Listing(listing_id="l-1", list_name="serious_untrustworthy", record_id="r-1")
    assert "repair notice" not in on_a_terminal(listing_view(listing))
    listing.repair_notice.CopyFrom(
        common_pb2.RepairNotice(
            repairable=True,
            repairable_from="2027-09-01",
            how="履行义务",
            total_working_days=10,
            decision_working_days=3,
        )
    )
    shown = on_a_terminal(listing_view(listing))
    assert "repair notice" in shown
    assert "2027-09-01" in shown
