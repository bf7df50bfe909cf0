"""Small drawing and formatting helpers shared by the generators: weights, days, money."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

_T = TypeVar("_T")
CENT = Decimal("0.01")


def weighted(rng: random.Random, options: Sequence[tuple[_T, float]]) -> _T:
    """One option, drawn with its weight."""
    return rng.choices([option for option, _ in options], weights=[weight for _, weight in options])[0]


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def between(rng: random.Random, start: date, end: date) -> date:
    """A day in [start, end]; ``start`` itself when the range is empty."""
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def money(rng: random.Random, low: float, high: float, unit: Decimal = Decimal(1)) -> Decimal:
    """An amount in yuan, log-uniform in [low, high] (small amounts are more common), in multiples of ``unit``."""
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return (unit * max(1, round(value / float(unit)))).quantize(CENT)


def yuan(amount: Decimal) -> str:
    """An amount as documents write it: 50000 or 12345.67."""
    return str(int(amount)) if amount == amount.to_integral_value() else f"{amount:.2f}"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
