"""``seed``: load a node's database with synthetic records and their events, in bulk, for scale tests and benches.

The records are the synthetic population's (``synthetic``), about subjects of the node's region, submitted by a
seeding agency and a seeding court that the command registers with the grants they need, as the node's operator
would (each registration logged). It writes through ``gateway.seeding``: COPY on PostgreSQL, ``executemany`` on
SQLite. Run it before the node serves or beside it; the node's sequencer integrates the events into its log.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from share_gateway.cli.common import Commands
    from share_gateway.config import NodeConfig
    from share_gateway.domain.records import RecordDraft
    from share_gateway.gateway import Gateway
    from share_gateway.synthetic import Population

SUBJECT_RECORDS = 4
"""Records per synthetic subject: what an inquiry about one of them finds."""


def add_commands(commands: Commands) -> None:
    seed = commands.add_parser("seed", help="load synthetic records and their events in bulk (scale tests, benches)")
    seed.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    seed.add_argument("--records", type=int, required=True, help="how many records to load")
    seed.add_argument("--seed", type=int, default=1, help="the synthetic population's seed (default: 1)")
    seed.add_argument("--batch", type=int, default=10_000, help="records per transaction (default: 10000)")
    seed.set_defaults(run=cmd_seed)


def seeding_providers(region: str) -> dict[str, str]:
    """The seeding agency's and court's USCCs in ``region`` (kind -> identifier), valid check digits."""
    from stdnum.cn import uscc

    first = {"public_agency": f"11{region}MB9000001", "court": f"11{region}MC9000002"}
    return {kind: digits + uscc.calc_check_digit(digits + "0") for kind, digits in first.items()}


def cmd_seed(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.common import CommandError
    from share_gateway.config import NodeConfig

    if args.records < 1 or args.batch < 1:
        raise CommandError("--records and --batch must be at least 1")
    config = NodeConfig.load(args.config)
    started = time.perf_counter()
    written = asyncio.run(_seed(config, args.records, args.seed, args.batch))
    seconds = time.perf_counter() - started
    print(f"seeded {written} records and their events into node {config.region} in {seconds:.1f} s", flush=True)


async def _seed(config: NodeConfig, records: int, seed: int, batch: int) -> int:
    from share_gateway.node import prepare_gateway
    from share_gateway.store.bulk import refresh_statistics

    database, gateway = prepare_gateway(config)
    try:
        try:
            written = _load(gateway, config.region, records, seed, batch)
        finally:
            await gateway.close()  # commits, integrates and checkpoints what was loaded
        refresh_statistics(database)
        return written
    finally:
        database.dispose()


def _load(gateway: Gateway, region: str, records: int, seed: int, batch: int) -> int:
    """Register the seeding providers (once), then load ``records`` drafts of population ``seed``."""
    from share_gateway.domain.policy import Grant, GrantRole, Principal
    from share_gateway.domain.principals import Identity, IdentityKind
    from share_gateway.gateway.grants import enrol, operator_act
    from share_gateway.gateway.seeding import Seeder
    from share_gateway.synthetic import Population

    now = datetime.now(UTC)
    store = gateway.store
    catalog = gateway.catalog.catalog
    act = operator_act(region, "synthetic records for a scale test", "share-gateway seed")
    providers = []
    for kind, identifier in seeding_providers(region).items():
        grants = [
            Grant(GrantRole.SUBMIT, name, now - timedelta(days=1))
            for name, record_type in catalog.record_types.items()
            if record_type.provision.may_provide(kind)
        ]
        if store.grants.institution(identifier)[0] is None:
            enrol(store, identifier, grants, now, kind, f"seeding {kind.replace('_', ' ')}", act=act)
        _, held = store.grants.institution(identifier)
        identity = Identity(IdentityKind.INSTITUTION, identifier)
        providers.append(Principal(identifier, identity.uri, kind, held))
    seeder = Seeder(gateway.registry, providers, batch)
    population = Population(seed=seed, today=now.date())
    return seeder.load(_drafts(population, region, records, seeder.loadable), f"seed-{seed}")


def _drafts(
    population: Population, region: str, records: int, loadable: Callable[[RecordDraft], bool]
) -> Iterator[RecordDraft]:
    """``records`` drafts about subjects of ``region``, made a thousand subjects at a time (never all in memory)."""
    left = records
    while left > 0:
        subjects = population.subjects(min(1000, max(1, left // SUBJECT_RECORDS + 1)), regions=[region])
        for draft in population.drafts(subjects, per_subject=SUBJECT_RECORDS):
            if left > 0 and loadable(draft):
                left -= 1
                yield draft
