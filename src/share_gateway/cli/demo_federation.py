"""The local multi-region demo: a fresh federation of three regional nodes on SQLite, its cast, and its run.

``run_demo`` makes the authority, certificates and catalog, records synthetic subjects through each region's own
agency before its node serves, starts each region's node as a process of its own (``demo_regions``), then plays
the guided scenario over gRPC (``demo_scenario``). Every step is logged by the node that served it.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from stdnum.cn import uscc

from share_gateway.cli.catalog_view import catalog_view
from share_gateway.cli.common import CommandError
from share_gateway.cli.console import show, table
from share_gateway.cli.demo_examples import examples_text
from share_gateway.cli.demo_regions import pids_line, prepare, start_regions, stop_regions
from share_gateway.cli.demo_scenario import REGIONS, Demo, Member, heading, play, region_name
from share_gateway.cli.messages import say
from share_gateway.config import NodeConfig
from share_gateway.devkit import create_federation, free_ports
from share_gateway.domain.catalog_text import Language
from share_gateway.domain.policy import Grant, GrantRole
from share_gateway.domain.principals import Identity, IdentityKind, Role
from share_gateway.domain.records import RecordDraft
from share_gateway.gateway import Gateway
from share_gateway.gateway.grants import enrol, operator_act
from share_gateway.synthetic import Population, SyntheticCompany, SyntheticPerson

OFFICER = "12010119850505123X"
SEED = 2026
# What each region's agency records; its courts record the dishonest judgment debtors (the catalog's providers).
AGENCY_TYPES = (
    "business_registration",
    "administrative_penalty",
    "administrative_licence",
    "tax_arrears",
    "loan_default",
    "utility_arrears",
    "credit_commitment",
)
COURT_TYPES = ("dishonest_judgment_debtor",)


def _uscc(first_seventeen: str) -> str:
    return first_seventeen + uscc.calc_check_digit(first_seventeen + "0")


def cast(person: SyntheticPerson, company: SyntheticCompany) -> list[Member]:
    members = [
        Member(
            f"agency-{region}",
            Identity(IdentityKind.INSTITUTION, _uscc(f"11{region}MB{index:07d}")),
            "public_agency",
            tuple((GrantRole.SUBMIT, t) for t in AGENCY_TYPES),
        )
        for index, region in enumerate(REGIONS, start=1)
    ]
    members += [
        Member(
            f"court-{region}",
            Identity(IdentityKind.INSTITUTION, _uscc(f"11{region}MC{index:07d}")),
            "court",
            tuple((GrantRole.SUBMIT, t) for t in COURT_TYPES),
        )
        for index, region in enumerate(REGIONS, start=1)
    ]
    members += [
        Member(
            "bank",
            Identity(IdentityKind.INSTITUTION, _uscc("91110000MA0000001")),
            "bank",
            ((GrantRole.INQUIRE, "loan_underwriting"),),
        ),
        Member(
            "utility",
            Identity(IdentityKind.INSTITUTION, _uscc("91310000MA0000002")),
            "utility",
            ((GrantRole.INQUIRE, "utility_connection"),),
        ),
        Member(
            "procurement",
            Identity(IdentityKind.INSTITUTION, _uscc("11440000MB0000009")),
            "government_department",
            ((GrantRole.INQUIRE, "public_procurement_review"),),
        ),
        Member("person", Identity(IdentityKind.PERSON, person.resident_id), "individual", ()),
        # The company acting for itself (credit repair): a party, not a registered requester.
        Member("company", Identity(IdentityKind.INSTITUTION, company.identifier), "", ()),
        Member("officer", Identity(IdentityKind.PERSON, OFFICER), "individual", (), (Role.COMPLIANCE_OFFICER,)),
    ]
    return members


async def _seed(
    gateway: Gateway,
    region: str,
    members: dict[str, Member],
    population: Population,
    records: int,
    extra: RecordDraft | None = None,
) -> None:
    """Before the region's node serves: register the cast, as its operator bootstraps it (every registration and
    grant logged all the same), then record synthetic subjects through the region's agency or court."""
    now = datetime.now(UTC)
    store = gateway.store
    act = operator_act(region, "demo federation setup", "demo")
    for member in members.values():
        if member.kind in {"individual", ""}:
            continue
        grants = [Grant(role, scope, now - timedelta(days=1)) for role, scope in member.grants]
        enrol(store, member.identity.identifier, grants, now, member.kind, member.name, act=act)
    agency = await gateway.runtime.principal(members[f"agency-{region}"].identity)
    court = await gateway.runtime.principal(members[f"court-{region}"].identity)
    subjects = population.subjects(max(1, records // 4), regions=[region])
    drafts = population.drafts(subjects, per_subject=4, region=region)[:records]
    for index, draft in enumerate(drafts):
        submitter = court if draft.record_type in COURT_TYPES else agency
        await gateway.registry.submit(submitter, f"seed-{index}", draft)
    if extra is not None:
        await gateway.registry.submit(agency, "demo-person", extra)


MARKER = ".share-gateway-demo"
"""The file ``demo`` writes into the folder it makes: only a folder holding it is the demo's to empty again."""


def claim_folder(root: Path) -> None:
    """Make ``root`` the demo's, empty: a folder of an earlier demo run is emptied; any other non-empty folder is
    refused, since its files are not the demo's to delete."""
    if root.exists() and not root.is_dir():
        raise CommandError(f"{root} is a file, not a folder for the demo")
    if root.is_dir() and any(root.iterdir()):
        if not (root / MARKER).is_file():
            raise CommandError(f"{root} is not empty and was not made by the demo: choose another --dir")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("made by share-gateway demo: emptied by the next run\n")


def run_demo(
    root: Path, keep_running: bool = False, records_per_region: int = 200, language: Language = Language.EN
) -> None:
    """Create a fresh federation under ``root``, then run the nodes and the scenario; the catalog in ``language``."""
    root = root.absolute()  # the printed examples name its files, and must work pasted in any directory
    claim_folder(root)
    population = Population(seed=SEED, today=datetime.now(UTC).date())
    person = population.person("110000")
    company = population.company("110000")
    members = {m.name: m for m in cast(person, company)}
    heading(say("creating", language, count=len(REGIONS), root=root))
    layout = create_federation(
        root,
        REGIONS,
        {m.name: m.identity for m in members.values()},
        datetime.now(UTC),
        roles={m.name: m.roles for m in members.values() if m.roles},
        ports=dict(zip(REGIONS, free_ports(len(REGIONS)), strict=True)),
    )
    show(say("created", language))
    show(catalog_view(population.catalog, language))
    heading(say("seeding", language, count=records_per_region))
    own = population.record_draft(person, "loan_default")
    for region in REGIONS:
        extra = own if region == "110000" else None
        work = partial(_seed, region=region, members=members, population=population, extra=extra)
        asyncio.run(prepare(NodeConfig.load(layout.node_config(region)), partial(work, records=records_per_region)))
    nodes = start_regions({region: layout.node_config(region) for region in REGIONS})
    try:
        asyncio.run(_run(Demo(layout, nodes, members), population, company, person, keep_running, language))
    finally:
        stop_regions(nodes)


async def _run(
    demo: Demo,
    population: Population,
    company: SyntheticCompany,
    person: SyntheticPerson,
    keep_running: bool,
    language: Language,
) -> None:
    nodes = demo.nodes
    show(
        table(
            [say(k, language) for k in ("region", "node", "mtls_port", "public_port")],
            [(r, region_name(r, language), n.port, n.public_port) for r, n in nodes.items()],
        )
    )
    await play(demo, company, person, population, language)
    if keep_running:
        show(examples_text(demo, company, language))
        names = [region_name(region, language) for region in nodes]
        show(say("pids", language), pids_line(nodes, names), "")
        await _wait_for_signal()


async def _wait_for_signal(signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
