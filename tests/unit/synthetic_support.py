"""The fixed day the synthetic population is drawn on, shared by the synthetic data tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

TODAY = date(2026, 5, 1)
NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
