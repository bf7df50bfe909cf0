"""``demo``: start three regional nodes and run a guided scenario (``demo_federation``, ``demo_scenario``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.messages import language_option

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands


def add_commands(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="start three regional nodes and run a guided scenario")
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("demo-data"),
        help="where to make the federation: a new or empty folder, or one an earlier demo made (emptied first)",
    )
    demo.add_argument("--records", type=int, default=200, help="synthetic records per region")
    demo.add_argument("--keep-running", action="store_true", help="keep the nodes up for grpcurl")
    language_option(demo)
    demo.set_defaults(run=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> None:
    from share_gateway.cli.common import language
    from share_gateway.cli.demo_federation import run_demo

    run_demo(args.dir, keep_running=args.keep_running, records_per_region=args.records, language=language(args))
