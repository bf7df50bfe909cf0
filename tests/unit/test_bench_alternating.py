"""The A/B estimator of the benches: measurements taken A, B, A, B, ... on one drifting process."""

from __future__ import annotations

import pytest

from bench.harness import alternating_ratio


def test_a_linear_drift_over_the_run_cancels() -> None:
    """A node that gets 5% faster every span must not make the side measured later look cheaper."""
    drifting = [(100.0 if i % 2 == 0 else 110.0) * (1 + 0.05 * i) for i in range(12)]
    assert alternating_ratio(drifting) == pytest.approx(100 / 110, rel=1e-3)
    naive = sum(drifting[0::2]) / sum(drifting[1::2])
    assert naive != pytest.approx(100 / 110, rel=1e-2)  # what pairing without the neighbours would report


def test_one_disturbed_span_does_not_move_the_median() -> None:
    steady = [100.0, 110.0] * 6
    steady[5] = 55.0  # a span the machine was busy for something else
    assert alternating_ratio(steady) == pytest.approx(100 / 110)


def test_fewer_than_three_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="three"):
        alternating_ratio([1.0, 2.0])
