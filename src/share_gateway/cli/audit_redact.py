"""``audit redact``: the operator removes the personal payload of old events; their leaf hashes stay.

Redaction cannot be undone, so it is guarded three ways: nothing younger
than the node's retention (``log.redact_after_days``) or its subjects'
history window (``log.history_days``) is touched, whatever ``--before``
says (the gateway refuses it too); the command says how many events it
would redact and asks before it does (``--yes`` answers for a script); and
``--before`` takes a date or a date-time, so the line can be drawn exactly.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.domain.events import Event


def add_commands(audit: Commands) -> None:
    redact = audit.add_parser(
        "redact",
        help="redact events past their retention period (leaf hashes stay)",
        description="Redact the personal payload of events logged before --before (default: now minus the larger "
        "of log.redact_after_days and log.history_days); nothing younger than that is ever redacted.",
    )
    redact.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    redact.add_argument(
        "--before",
        type=instant,
        metavar="DATE|DATE-TIME",
        help="events logged before this instant: YYYY-MM-DD (start of that day, UTC) or an ISO 8601 date-time "
        "(UTC unless it carries an offset, e.g. 2021-11-30T18:00:00+08:00)",
    )
    redact.add_argument("--yes", action="store_true", help="do not ask for confirmation (for scripts)")
    redact.set_defaults(run=cmd_redact)


def instant(text: str) -> datetime:
    """``--before``: a day (its start, UTC) or a date-time (UTC when it names no offset)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO 8601 date-time (YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        ) from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def cmd_redact(args: argparse.Namespace) -> None:
    from share_gateway.cli.common import CommandError
    from share_gateway.cli.console import show
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.domain.events import Event, EventKind, Outcome
    from share_gateway.gateway.audit import redact_log, redaction_limit

    config = NodeConfig.load(args.config)
    now = datetime.now(UTC)
    limit = redaction_limit(now, config.log)
    before: datetime = args.before or limit
    if before > limit:
        raise CommandError(
            f"refused: --before {before.isoformat()} would redact events younger than the node keeps them "
            f"(log.redact_after_days: {config.log.redact_after_days} days) or than a subject's history shows them "
            f"(log.history_days: {config.log.history_days} days); the latest allowed is {limit.isoformat()}"
        )

    def note(count: int, first: int, last: int) -> Event:
        return Event(
            event_id=str(uuid.uuid4()),
            kind=EventKind.LOG_REDACTED,
            at=now,
            node=config.region,
            actor=f"sgw://node/{config.region}",
            outcome=Outcome.ALLOWED,
            details={"count": str(count), "before": before.isoformat(), "leaves": f"{first}..{last}"},
        )

    with node_store(config, migrated=False) as store:
        count, first, last = store.log.redactable_span(before)
        if not count:
            show(f"nothing to redact: no event logged before {before.isoformat()} is left unredacted")
            return
        if not args.yes and not _confirmed(count, first, last, before):
            raise CommandError("not confirmed: nothing was redacted")
        count = redact_log(store, before, now, note, config.log)
    show(
        f"redacted {count} events logged before {before.isoformat()}; their leaf hashes stay and the log still verifies"
    )


def _confirmed(count: int, first: int, last: int, before: datetime) -> bool:
    """Ask on the terminal (or whatever feeds stdin); only "y" or "yes" goes ahead, end of input does not."""
    sys.stderr.write(
        f"redact {count} event(s) logged before {before.isoformat()} (leaves {first}..{last})? Their personal "
        "payload is removed for good; their leaf hashes stay. [y/N] "
    )
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in {"y", "yes"}
