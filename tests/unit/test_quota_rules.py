"""Quota arithmetic, the catalog's optional quota field, and the harvesting signals: pure, the time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import CatalogInvalid
from share_gateway.domain.harvesting import HarvestingThresholds, HarvestingWatch, Signal, serial_number
from share_gateway.domain.quotas import DEFAULT_QUOTA, lease, meter_specs

NOW = datetime(2026, 12, 1, 23, 59, 30, tzinfo=UTC)


def test_a_catalog_without_quotas_stays_valid_with_the_default() -> None:
    text = "\n".join(line for line in sample_catalog_text().splitlines() if "quota:" not in line)
    catalog = Catalog.from_yaml(text)
    assert {p.quota for p in catalog.purposes.values()} == {DEFAULT_QUOTA}
    sample = Catalog.from_yaml(sample_catalog_text())
    assert sample.purposes["public_lookup"].quota.distinct_subjects == 200


def test_a_bad_quota_is_named_by_its_path() -> None:
    text = sample_catalog_text().replace("quota: {per_minute: 30,", "quota: {per_minute: 0, sideways: 1,", 1)
    with pytest.raises(CatalogInvalid) as raised:
        Catalog.from_yaml(text)
    fields = {p.field for p in raised.value.problems}
    assert {"purposes.public_lookup.quota.per_minute", "purposes.public_lookup.quota.sideways"} <= fields


def test_a_day_bucket_is_void_at_midnight_and_says_when_to_retry() -> None:
    _, daily, _ = meter_specs(DEFAULT_QUOTA.replaced(per_day=2), NOW, 100)
    first = lease(None, daily, 5, NOW)
    assert first.taken == 2
    empty = lease(first.bucket, daily, 5, NOW)
    assert empty.taken == 0
    assert empty.retry_after == pytest.approx(30.0)
    tomorrow = meter_specs(DEFAULT_QUOTA.replaced(per_day=2), NOW + timedelta(minutes=1), 100)[1]
    assert lease(empty.bucket, tomorrow, 5, NOW + timedelta(minutes=1)).taken == 2


def test_sequential_identifiers_and_a_refusal_ratio_raise_once_per_window() -> None:
    watch = HarvestingWatch(HarvestingThresholds(sequential_steps=3, refusal_calls=4, refusal_share=0.5))
    raised = [s.signal for n in range(1, 6) for s in watch.asked("r", f"11010519800101{n:03d}X", NOW)]
    assert raised == [Signal.SEQUENTIAL_IDENTIFIERS]
    assert [s.signal for _ in range(5) for s in watch.refused("r", NOW)] == [Signal.REFUSAL_RATIO]
    later = NOW + timedelta(hours=1)
    assert [s.signal for n in (1, 2, 3, 4) for s in watch.asked("r", f"11010519800101{n:03d}X", later)] == [
        Signal.SEQUENTIAL_IDENTIFIERS
    ]


def test_serial_numbers_leave_the_check_characters_out() -> None:
    assert serial_number("110105198001011238") == 11010519800101123
    assert serial_number("not an id") is None
    # A USCC's organisation code counts in its 16th character; its own check (17th) and the final one are left out.
    a, b = serial_number("91110000MA0000010L"), serial_number("91110000MA0000020L")
    assert a is not None
    assert b == a + 1


@pytest.mark.parametrize(
    "identifier",
    [
        "9111000IMA0000010L",  # I, O, S, V and Z are not in the USCC alphabet (GB 32100-2015)
        "9111000-MA0000010L",  # int() would read a sign
        "9111000 MA0000010L",  # or skip a space
        "91110\u0661\u0661\u0661MA000001LL",  # or take other scripts' digits
    ],
)
def test_a_serial_number_is_read_only_from_the_uscc_alphabet(identifier: str) -> None:
    assert serial_number(identifier) is None


def test_a_lease_with_an_older_clock_never_moves_the_bucket_back_to_be_refilled_twice() -> None:
    """A call that waited (or another replica) leases with a clock behind the bucket's: the refill it already
    had is not credited again, and the bucket keeps the later time."""
    rate = meter_specs(DEFAULT_QUOTA, NOW, 100)[0]
    at = NOW + timedelta(seconds=10)
    emptied = lease(None, rate, rate.capacity, at).bucket
    assert emptied.level == 0.0
    late = lease(emptied, rate, rate.capacity, at - timedelta(seconds=5))
    assert late.taken == 0
    assert late.bucket.updated_at == at
    # A second later than the bucket's own time, a second's refill: the older lease credited none of it again.
    assert lease(late.bucket, rate, rate.capacity, at + timedelta(seconds=1)).taken == int(rate.refill_per_second)
