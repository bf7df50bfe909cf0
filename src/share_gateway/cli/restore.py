"""``node acknowledge-restore``: the operator lets a node serve on a database restored to before what its witnesses
cosigned, knowing the log's history departs from theirs there (docs/operations.md, "Backup and restore").

It works on the node's database, beside the running node or before it starts: it appends the acknowledgement as an
event (the node as actor, the operator's name and the lost checkpoint in its details), and a refusing node serves
within a second of finding it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError

if TYPE_CHECKING:
    ParserGroup = argparse._SubParsersAction[argparse.ArgumentParser]


def add_node_commands(node: ParserGroup) -> None:
    acknowledge = node.add_parser(
        "acknowledge-restore",
        help="let a node restored to before its witnesses' last cosigned checkpoint serve on its log as it is",
    )
    acknowledge.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    acknowledge.add_argument("--operator", help="who acknowledges (default: the login name), written in the event")
    acknowledge.set_defaults(run=cmd_acknowledge_restore)


def cmd_acknowledge_restore(args: argparse.Namespace) -> None:
    import getpass
    from datetime import UTC, datetime

    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.gateway.restore import acknowledge

    config = NodeConfig.load(args.config)
    with node_store(config, migrated=False) as store:
        try:
            event, lost = acknowledge(store, config.region, args.operator or getpass.getuser(), datetime.now(UTC))
        except LookupError as error:
            raise CommandError(f"nothing to acknowledge: {error}") from error
    print(
        f"restore acknowledged (event {event.event_id}): leaves {lost.local_size} to {lost.size - 1} of the checkpoint "
        f"witness {lost.witness} cosigned are lost to node {config.region}; it serves on its log as it is, whose "
        "history departs from the cosigned one there",
        flush=True,
    )
