"""The disclosure period rules (DOMAIN.md "Disclosure periods"): two ends, the minor tier unpublished, the clock's
start, the end of the conduct, and a maximum for every record.

Sources: State Council General Office 2025 No. 22 (tiers; minor information may stay unpublished, at most 3
months); NDRC Order No. 36 of 2025 (stopping publication and stopping sharing are different ends; every record
has a maximum period); SAMR Order 45 Art. 13 (period from publication); Credit Reporting Industry Regulation
Art. 16 (negative information kept 5 years from the end of the conduct).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_document import load_yaml, parse_catalog
from share_gateway.domain.errors import CatalogInvalid
from share_gateway.domain.periods import Audience
from share_gateway.domain.policy import Policy
from share_gateway.domain.records import Record, RecordDraft, admit_record
from tests.unit.records_support import (
    ENTITY,
    NOW,
    SUBMITTER,
    TODAY,
    admit,
    day,
    document,
    loan_default,
    money,
    penalty,
    text,
    violations,
)


def catalog_with(record_type: str, **periods: Any) -> Catalog:
    """The sample catalog with ``periods`` set on ``record_type``."""
    document = load_yaml(sample_catalog_text())
    document["record_types"][record_type].setdefault("periods", {}).update(periods)
    return parse_catalog(document)


def admitted(catalog: Catalog, draft: RecordDraft) -> Record:
    return admit_record(catalog, draft, record_id="rec-1", origin_region="110000", submitted_by=SUBMITTER, now=NOW)


def settled(on: str) -> RecordDraft:
    return dataclasses.replace(loan_default(), settled_on=on)


# --- two ends: publication and sharing -----------------------------------------------------------------------


def test_minor_record_never_published_yet_shared_and_visible_to_its_subject() -> None:
    """2025 No. 22: minor information may stay unpublished -- by default it is; it is still shared where a purpose
    lawfully needs it (NDRC Order No. 36: publication and sharing end apart), and its subject always sees it."""
    record = admit(penalty(severity="minor", issued_on="2026-11-20"))
    assert record.publish_until == date(2026, 11, 20)  # published for 0 days
    assert record.share_until == date(2026, 11, 20) + timedelta(days=90)
    assert not record.visible_to(Audience.PUBLICATION, TODAY)
    assert record.visible_to(Audience.SHARING, TODAY)
    assert record.visible_to(Audience.SUBJECT, TODAY)


def test_minor_information_published_at_most_the_catalogs_months_where_the_catalog_says_why() -> None:
    """2025 No. 22: at most 3 months where publication is necessary -- the catalog's number, with its reason."""
    catalog = catalog_with(
        "administrative_penalty", minor_publication={"maximum": "30d", "reason": "public safety (test)"}
    )
    record = admitted(catalog, penalty(severity="minor", disclosure_days=90, issued_on="2026-11-20"))
    assert record.publish_until == date(2026, 11, 20) + timedelta(days=30)
    assert record.share_until == date(2026, 11, 20) + timedelta(days=90)


def test_minor_publication_must_state_why() -> None:
    """2025 No. 22: publishing minor information is the exception, so the catalog says why."""
    document = load_yaml(sample_catalog_text())
    document["record_types"]["administrative_penalty"]["periods"]["minor_publication"] = {"maximum": "90d"}
    with pytest.raises(CatalogInvalid) as raised:
        parse_catalog(document)
    assert [v.field for v in raised.value.problems] == [
        "record_types.administrative_penalty.periods.minor_publication.reason"
    ]


def test_sharing_outlasts_publication_where_the_catalog_says_so() -> None:
    """NDRC Order No. 36: a record may be shared for a lawful purpose after its publication ended."""
    catalog = catalog_with("administrative_penalty", sharing_after_publication="365d", maximum="1825d")
    record = admitted(catalog, penalty(severity="general", disclosure_days=100, issued_on="2026-11-20"))
    published_end = date(2026, 11, 20) + timedelta(days=100)
    assert (record.publish_until, record.share_until) == (published_end, published_end + timedelta(days=365))
    assert not record.visible_to(Audience.PUBLICATION, published_end)
    assert record.visible_to(Audience.SHARING, published_end)
    assert not record.visible_to(Audience.SHARING, published_end + timedelta(days=365))


def test_each_purpose_honours_its_end_publication_sharing_or_the_subjects_own() -> None:
    """Issue 12 item 5: publication is disclosure in the public scope (public lookup, the public port); sharing a
    purpose-bound answer to an authorised requester; the subject's own inquiry sees its records."""
    policy = Policy(Catalog.from_yaml(sample_catalog_text()))
    assert policy.audience("public_lookup") is Audience.PUBLICATION
    for purpose in ("loan_underwriting", "utility_connection", "public_procurement_review"):
        assert policy.audience(purpose) is Audience.SHARING
    assert policy.audience("self_inquiry") is Audience.SUBJECT


# --- the clock's start ---------------------------------------------------------------------------------------


def test_period_from_the_decision_date_by_default() -> None:
    """2025 No. 22 / DOMAIN.md: the clock starts at the decision date unless the type's rule says otherwise."""
    record = admit(penalty(severity="general", issued_on="2026-10-01"))
    assert record.period_start == record.decided_on == date(2026, 10, 1)
    assert record.share_until == date(2026, 10, 1) + timedelta(days=365)


def test_period_from_publication_date_for_samr_penalties() -> None:
    """SAMR Order 45 Art. 13: a market-regulation penalty's period counts from its publication, not its decision."""
    catalog = catalog_with("administrative_penalty", starts="publication", starts_source="SAMR Order 45 Art. 13 (test)")
    record = admitted(catalog, penalty(severity="general", issued_on="2026-10-01"))
    assert record.decided_on == date(2026, 10, 1)
    assert record.period_start == TODAY  # published (recorded here) today
    assert record.share_until == TODAY + timedelta(days=365)


def test_a_start_other_than_the_decision_names_its_source() -> None:
    document = load_yaml(sample_catalog_text())
    document["record_types"]["administrative_penalty"]["periods"]["starts"] = "publication"
    with pytest.raises(CatalogInvalid) as raised:
        parse_catalog(document)
    assert [v.field for v in raised.value.problems] == ["record_types.administrative_penalty.periods.starts_source"]


def test_loan_default_deleted_five_years_after_settlement() -> None:
    """Credit Reporting Industry Regulation Art. 16: negative information is kept 5 years from the END of the
    conduct (the day the debt was settled), not 5 years from the day it was entered."""
    record = admit(settled("2026-03-02"))
    assert record.period_start == date(2026, 3, 2)
    assert record.share_until == date(2026, 3, 2) + timedelta(days=1825)
    assert record.share_until != TODAY + timedelta(days=1825)


def test_unsettled_loan_default_has_no_end_until_settled() -> None:
    """Credit Reporting Industry Regulation Art. 16: while the conduct goes on, its five years have not begun."""
    record = admit(loan_default())
    assert (record.period_start, record.publish_until, record.share_until) == (None, None, None)
    assert record.visible_to(Audience.SHARING, TODAY + timedelta(days=3650))


def test_record_without_a_decision_shows_no_decision_date() -> None:
    """Issue 12: records without a decision must not show today as their decision date."""
    assert admit(settled("2026-03-02")).decided_on is None


def test_settled_on_only_for_a_type_counted_from_the_end_of_the_conduct() -> None:
    draft = dataclasses.replace(penalty(), settled_on="2026-03-02")
    assert violations(draft) == [("settled_on", "administrative_penalty runs from its decision, not the conduct's end")]


@pytest.mark.parametrize(
    ("settled_on", "problem"),
    [
        ("2026-13-01", "'2026-13-01' is not an ISO 8601 date (YYYY-MM-DD)"),
        ((TODAY + timedelta(days=1)).isoformat(), "the conduct cannot have ended in the future"),
    ],
)
def test_settled_on_is_a_past_date(settled_on: str, problem: str) -> None:
    assert violations(settled(settled_on)) == [("settled_on", problem)]


def test_a_default_settled_more_than_five_years_ago_is_refused() -> None:
    """Credit Reporting Industry Regulation Art. 16: its period has already ended; nothing to record."""
    ended = date(2020, 1, 1) + timedelta(days=1825)
    assert violations(settled("2020-01-01")) == [("settled_on", f"the disclosure period already ended on {ended}")]


# --- every record has a maximum --------------------------------------------------------------------------------


def test_every_record_type_has_a_maximum_period_or_says_none_with_its_source() -> None:
    """NDRC Order No. 36 of 2025: every record has a maximum period unless its own rule sets none."""
    catalog = Catalog.from_yaml(sample_catalog_text())
    for record_type in catalog.record_types.values():
        rule = record_type.periods
        assert rule.maximum_days is not None or rule.maximum_source, record_type.name
    document = load_yaml(sample_catalog_text())
    del document["record_types"]["tax_arrears"]["periods"]
    document["record_types"]["business_registration"]["periods"] = {"maximum": "none"}
    with pytest.raises(CatalogInvalid) as raised:
        parse_catalog(document)
    assert sorted(v.field for v in raised.value.problems) == [
        "record_types.business_registration.periods.maximum_source",
        "record_types.tax_arrears.periods.maximum",
    ]


def test_a_record_ends_at_its_types_maximum() -> None:
    """NDRC Order No. 36 of 2025: publication and sharing stop at the maximum, whatever the severity period."""
    catalog = catalog_with("administrative_penalty", sharing_after_publication="365d", maximum="500d")
    record = admitted(catalog, penalty(severity="general", disclosure_days=365, issued_on="2026-11-20"))
    assert record.publish_until == date(2026, 11, 20) + timedelta(days=365)
    assert record.share_until == date(2026, 11, 20) + timedelta(days=500)


def test_a_type_without_severity_periods_ends_at_its_maximum() -> None:
    """Tax arrears have no severity tier, yet a maximum (the sample catalog marks its number unverified)."""
    catalog = Catalog.from_yaml(sample_catalog_text())
    assert catalog.record_types["tax_arrears"].periods.maximum_days == 1095
    assert "unverified" in catalog.record_types["tax_arrears"].periods.maximum_source


def test_a_record_past_its_types_maximum_is_refused_at_admission() -> None:
    """NDRC Order No. 36 of 2025: a record whose maximum period already ended has nothing left to disclose."""
    arrears = RecordDraft(
        record_type="tax_arrears",
        subject_kind="legal_entity",
        subject_identifier=ENTITY,
        fields={
            "taxpayer_name": text("Shenzhen Example Trading Co., Ltd."),
            "tax_type": text("value-added tax"),
            "arrears_amount": money("1200"),
            "arrears_since": day("2022-01-01"),
            "tax_authority": text("Shenzhen Tax Service"),
        },
        legal_document=document("2022-06-01", kind="tax_arrears_announcement"),
    )
    ended = date(2022, 6, 1) + timedelta(days=1095)
    assert violations(arrears) == [("legal_document.issued_on", f"the disclosure period already ended on {ended}")]
    recent = dataclasses.replace(arrears, legal_document=document("2026-06-01", kind="tax_arrears_announcement"))
    assert admit(recent).share_until == date(2026, 6, 1) + timedelta(days=1095)
