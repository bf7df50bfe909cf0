"""The command line's views in Chinese or English (issue 12, "CLI and demo views in either, --lang zh|en").

Labels come from one message table; values stay as the node sent them. A view asked for in Chinese keeps no
English label, and in English reads as it always did.
"""

from __future__ import annotations

import io
import re
import string
from datetime import UTC, datetime

import pytest
from rich.console import Console, RenderableType

from share_gateway.cli import build_parser
from share_gateway.cli.messages import MESSAGES, default_language
from share_gateway.cli.messages_views import VIEW_TEXTS
from share_gateway.cli.repair_views import dispute_view, notice_view, repair_view
from share_gateway.cli.views import listing_view, record_view
from share_gateway.domain.catalog_text import Language
from share_gateway.v1 import common_pb2

AT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
CJK = re.compile(r"[\u4e00-\u9fff]")


def text_of(renderable: RenderableType) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(renderable)
    return out.getvalue()


def english_fragments(keys: object) -> set[str]:
    """The literal English words of the messages ``keys`` (placeholders removed), long enough to be a label."""
    fragments: set[str] = set()
    for key in keys:  # type: ignore[attr-defined]
        for literal, *_ in string.Formatter().parse(MESSAGES[key][Language.EN]):
            words = literal.strip(" :;,()—-\n")
            if len(words) >= 4 and re.search("[A-Za-z]", words) and "share-gateway" not in words:
                fragments.add(words)
    return fragments


def english_left(shown: str, keys: object) -> list[str]:
    return [f for f in english_fragments(keys) if re.search(rf"(?<![A-Za-z_]){re.escape(f)}(?![A-Za-z_])", shown)]


def views(language: Language | None) -> list[str]:
    """A repair application, a dispute, a repair notice, a record and a listing, as shown in ``language``
    (None: called as before there was a choice, without one)."""
    subject = common_pb2.Subject(identifier="91110108MA01ABCD1X")
    application = common_pb2.RepairApplication(
        application_id="A-1", record_id="R-1", subject=subject, applicant="sgw://person/110108198001011234",
        state=common_pb2.REPAIR_STATE_APPROVED, result_due="2026-05-15", total_working_days=10,
        decision_working_days=3, reason="已履行全部义务", remedy="行政复议", overdue="decision", extended_by=5,
        extension_reason="案情复杂", mandate_id="M-1", origin_region="440000",
    )  # fmt: skip
    application.submitted_at.FromDatetime(AT)
    application.decided_at.FromDatetime(AT)
    dispute = common_pb2.Dispute(
        dispute_id="D-1", origin_region="110000", record_id="R-2", subject=subject, claim="金额有误",
        state=common_pb2.DISPUTE_STATE_CORRECTED, answer_due="2026-05-21", answer="已更正", overdue=True,
        corrected_record_id="R-3", basis="20 天",
    )  # fmt: skip
    dispute.filed_at.FromDatetime(AT)
    dispute.answered_at.FromDatetime(AT)
    notice = common_pb2.RepairNotice(
        repairable=True, repairable_from="2026-08-01", how="提交履行证明", basis="依据", severity_note="说明",
        total_working_days=10, decision_working_days=3,
    )  # fmt: skip
    record = common_pb2.Record(
        record_id="R-1", record_type="loan_default", subject=subject, share_until="2031-05-01",
        withdrawal=common_pb2.Withdrawal(withdrawn_on="2026-05-06", due="2026-05-05", late=True),
    )  # fmt: skip
    listing = common_pb2.Listing(
        listing_id="L-1", list_name="serious_untrustworthy", record_id="R-1", record_type="administrative_penalty",
        origin_region="110000", subject=subject, notice_due="2026-05-08", overdue="notice",
        decision=common_pb2.ListingDecision(reason="理由", basis="依据", removal_conditions="条件", remedies="复议"),
    )  # fmt: skip
    if language is None:
        shown = (repair_view(application), dispute_view(dispute), notice_view(notice), record_view(record))
        return [text_of(view) for view in (*shown, listing_view(listing))]
    shown = (
        repair_view(application, language),
        dispute_view(dispute, language),
        notice_view(notice, language),
        record_view(record, language=language),
    )
    return [text_of(view) for view in (*shown, listing_view(listing, language))]


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    """One table for every label: each has English and Chinese, filled from the same values, and no label is
    defined twice under two keys."""
    for key, texts in MESSAGES.items():
        assert set(texts) == set(Language), key
        fields = [{name for _, name, *_ in string.Formatter().parse(texts[lang]) if name} for lang in Language]
        assert fields[0] == fields[1], key
    pairs = [(texts[Language.EN], texts[Language.ZH]) for texts in MESSAGES.values()]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, Language.EN),
        ({"LANG": "zh_CN.UTF-8"}, Language.ZH),
        ({"LANG": "en_US.UTF-8"}, Language.EN),
        ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, Language.ZH),
        ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, Language.EN),
    ],
)
def test_the_default_language_follows_lc_all_then_lang(environ: dict[str, str], expected: Language) -> None:
    """POSIX: LC_ALL overrides LANG; Chinese where the locale starts with zh, else English (unverified)."""
    assert default_language(environ) is expected


def test_lang_is_one_global_option_also_accepted_after_a_command() -> None:
    """``share-gateway --lang zh demo`` and ``share-gateway demo --lang zh`` mean the same; a later one wins."""
    parser = build_parser()
    assert parser.parse_args(["--lang", "zh", "catalog", "show", "c.yaml", "--authority", "a.pub"]).lang == "zh"
    assert parser.parse_args(["catalog", "show", "c.yaml", "--authority", "a.pub", "--lang", "zh"]).lang == "zh"
    assert parser.parse_args(["--lang", "zh", "demo", "--lang", "en"]).lang == "en"


def test_the_procedure_views_in_chinese_keep_no_english_label() -> None:
    """Repair, dispute, notice, record and listing views in Chinese: Chinese headings and labels, no English one
    left (the node's values, here Chinese, stay as sent)."""
    shown = "\n".join(views(Language.ZH))
    for heading in (
        "信用修复申请 A-1",
        "异议 D-1",
        "信用修复告知书",
        "名单记录 L-1",
        "结果期限",
        "决定期限",
        "答复期限",
    ):
        assert heading in shown
    assert english_left(shown, VIEW_TEXTS) == []


def test_the_procedure_views_in_english_read_as_before() -> None:
    """English stays the default and unchanged: the lines the views printed before there was a choice."""
    shown = "\n".join(views(Language.EN))
    assert views(None) == views(Language.EN)
    for before in (
        "repair application A-1: approved",
        "  result due    2026-05-15 (10 working days from the application)",
        "  decision due  3 working days after acceptance, by the result date at the latest",
        "  held by       region 440000",
        "  extended      5 working days: 案情复杂",
        "  OVERDUE       the decision deadline passed",
        "dispute D-1: corrected",
        "  OVERDUE       answered late",
        "  deadlines        result within 10 working days of applying; decision within 3 of receipt",
        "loan_default R-1 about 91110108MA01ABCD1X",
        "withdrawn",
        "2026-05-06, due 2026-05-05 (LATE)",
        "listing L-1:",
        "  OVERDUE       the notice step is late",
        "  history",
    ):
        assert before in shown, before
