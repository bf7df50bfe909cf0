"""``node trust-status``: the trust material a node's configuration names, and when each expires.

An operator's look before the node fails closed: the manifest, the catalog,
the revocation list, the node's TLS certificate and the federation CA, read
from the files ``node.yaml`` names (signatures verified), each with its
expiry and whether it falls within ``trust.expiry_warning_days``. The same
rules (``domain.trust_expiry``) decide what the running node reports in its
health, metrics and log. The exit status is 1 while any artefact warns, so a
cron job or a deployment check can act on it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import language
from share_gateway.cli.messages import language_option
from share_gateway.cli.restore import add_node_commands

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Group

    from share_gateway.cli.common import Commands
    from share_gateway.config import NodeConfig
    from share_gateway.domain.catalog_text import Language
    from share_gateway.domain.trust_expiry import ExpiryStanding, TrustMaterial


def add_commands(commands: Commands) -> None:
    node = commands.add_parser("node", help="a node's own state, read from its configuration").add_subparsers(
        dest="node", required=True
    )
    status = node.add_parser("trust-status", help="the node's trust material and when each expires")
    status.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    language_option(status)
    status.set_defaults(run=cmd_trust_status)
    add_node_commands(node)


def configured_materials(config: NodeConfig) -> tuple[TrustMaterial, ...]:
    """What the node would hold in force, read and verified from the files its configuration names."""
    from share_gateway.catalog import open_catalog
    from share_gateway.cli.common import authority_ring
    from share_gateway.federation.manifest import open_manifest
    from share_gateway.federation.revocation_list import open_revocation_list
    from share_gateway.gateway.trust_expiry import trust_materials

    authority = authority_ring(config.authority_key)
    manifest = None if config.manifest is None else open_manifest(config.manifest.read_bytes(), authority)
    watched = config.revocation_list
    revocations = (
        open_revocation_list(watched.read_bytes(), authority) if watched is not None and watched.exists() else None
    )
    return trust_materials(
        open_catalog(config.catalog.read_bytes(), authority),
        manifest,
        revocations,
        (config.tls_certificate.read_bytes(), config.ca_certificate.read_bytes()),
    )


def cmd_trust_status(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show, warn
    from share_gateway.cli.messages import say
    from share_gateway.config import NodeConfig
    from share_gateway.domain.trust_expiry import standings

    config = NodeConfig.load(args.config)
    now = datetime.now(UTC)
    current = standings(configured_materials(config), now, config.trust.expiry_horizon)
    lang = language(args)
    show(trust_status_view(config.region, config.trust.expiry_warning_days, now, current, lang))
    warning = [s for s in current if s.warns]
    if warning:
        warn(say("trust_warning", lang, count=len(warning), days=config.trust.expiry_warning_days))
        raise SystemExit(1)


def trust_status_view(
    region: str, days: int, now: datetime, current: Sequence[ExpiryStanding], lang: Language
) -> Group:
    """One row per artefact: which one, when it expires, how many days are left and where it stands."""
    from rich.console import Group

    from share_gateway.cli.console import line, table
    from share_gateway.cli.messages import say

    rows = []
    for standing in current:
        material = standing.material
        expires = "-" if material.expires is None else f"{material.expires.astimezone(UTC):%Y-%m-%d %H:%M}"
        left = "-" if standing.remaining is None else f"{standing.remaining.total_seconds() / 86400:.1f}"
        state = say(f"trust_{standing.state.value}", lang)
        rows.append((material.artefact.value, material.identifier, expires, left, state))
    headers = ("artefact", "identifier", "expires_utc", "days_left", "status")
    heading = say("trust_status", lang, region=region, days=days, now=f"{now:%Y-%m-%d %H:%M}")
    return Group(line(heading), table([say(h, lang) for h in headers], rows))
