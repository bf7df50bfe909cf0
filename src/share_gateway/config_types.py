"""The kinds of value a node setting may be, each with its check (``config.py`` declares the settings with them).

A check failing raises ``ValueError`` with what the value must be; pydantic places it under the setting's key and
``config_sources.describe`` words it in one line.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictStr, ValidationInfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from share_gateway.domain.errors import DomainError
from share_gateway.domain.identifiers import validate_division
from share_gateway.domain.principals import Identity

SECTION = ConfigDict(extra="forbid", defer_build=True)
"""Every section refuses a key it does not have: a typo must not pass silently. Its validator is built when first
used: most processes importing the sections (clients, the gateway's modules) never read a configuration."""


def seconds(default: float | None, most: float) -> Any:
    """A field in seconds: a finite number above 0 and at most ``most`` (a text or a bool is refused)."""
    return Field(default, strict=True, gt=0, le=most, allow_inf_nan=False)


def whole(default: int, least: int, most: int | None = None) -> Any:
    """A field that is a whole number from ``least`` (to ``most``); a text, a bool or 1.5 is refused."""
    return Field(default, strict=True, ge=least, le=most)


def _beside_file(value: Path, info: ValidationInfo) -> Path:
    """A relative path is relative to the configuration file (the loader passes its folder as ``base``)."""
    base = (info.context or {}).get("base")
    return base / value if base is not None and not value.is_absolute() else value


ConfigPath = Annotated[Path, AfterValidator(_beside_file)]


def _domain(check: Any) -> Any:
    """A domain check as a pydantic validator: its refusal becomes the key's one-line error."""

    def validate(value: Any) -> Any:
        try:
            return check(value)
        except DomainError as error:
            raise ValueError(str(error).partition(": ")[2] or str(error)) from error

    return AfterValidator(validate)


def _database_url(value: str, info: ValidationInfo) -> str:
    """A database URL the store can open; a relative SQLite path is relative to the configuration file."""
    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as error:
        raise ValueError("is not a database URL (sqlite:///node.db or postgresql+psycopg://user@host/db)") from error
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ValueError("must name a SQLite file: an in-memory database is not shared between connections")
        path = _beside_file(Path(url.database), info)
        return url.set(database=str(path)).render_as_string(hide_password=False)
    if url.drivername != "postgresql+psycopg":
        raise ValueError(f"{url.drivername!r} is not supported: use sqlite:/// or postgresql+psycopg://")
    return value


def upper_text(value: object) -> object:
    """A setting's text in capitals (``info`` and ``INFO`` are one level)."""
    return value.upper() if isinstance(value, str) else value


def _day_text(value: object) -> object:
    """YAML reads an unquoted 2026-10-01 as a date: the calendar wants its ISO text."""
    return value.isoformat() if isinstance(value, date) else value


def _region_text(value: object) -> object:
    """YAML reads an unquoted 110000 as a number; a division code has no leading zero to lose."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Region = Annotated[StrictStr, BeforeValidator(_region_text), _domain(validate_division)]
DatabaseUrl = Annotated[StrictStr, AfterValidator(_database_url)]
Administrator = Annotated[StrictStr, _domain(lambda uri: Identity.from_uri(uri).uri)]
Day = Annotated[StrictStr, BeforeValidator(_day_text)]
SqliteSynchronous = Annotated[Literal["FULL", "NORMAL"], BeforeValidator(upper_text)]
