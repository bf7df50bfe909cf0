"""The ``share-gateway`` command: run a node, make PKI, sign catalogs, manage grants, call a node.

Each verb group has its module, which adds its commands to the parser; a command imports what it needs (grpc, the
``v1`` stubs, SQLAlchemy, cryptography, rich) only when it runs, so that ``--help`` stays fast.

The parser is argparse's, on purpose: Click would add its own import to every ``--help`` and parse dates more
narrowly than ``date.fromisoformat``, for help texts argparse writes as well once each option has one.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from share_gateway.cli import (
    audit,
    catalog,
    consent,
    demo,
    dispute,
    federation,
    grant,
    inquire,
    listing,
    node,
    outbox,
    pki,
    records,
    repair,
    seed,
    trust_status,
    web_console,
)
from share_gateway.cli.common import CommandError
from share_gateway.cli.messages import global_language_option

DESCRIPTION = "The ``share-gateway`` command: run a node, make PKI, sign catalogs, manage grants, call a node."
VERB_GROUPS = (
    node,
    trust_status,
    pki,
    catalog,
    federation,
    grant,
    records,
    inquire,
    consent,
    repair,
    dispute,
    listing,
    audit,
    web_console,
    outbox,
    seed,
    demo,
)
"""In the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="share-gateway", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the node and the command do (INFO)")
    global_language_option(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in VERB_GROUPS:
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    # gRPC core logs at INFO unless told otherwise: a node would print a line for every client that fails its TLS
    # handshake (no certificate, a port probe), a command for its own retries. Errors only, unless the caller
    # sets GRPC_VERBOSITY itself; read when grpc is first imported, so before any command runs (and inherited by
    # the nodes the demo starts).
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    args = build_parser().parse_args(argv)
    from share_gateway.cli.console import log_to_stderr

    log_to_stderr(args.verbose)
    _run(args)


def _run(args: argparse.Namespace) -> None:
    """Run the chosen command; a failure the user can act on is one line on stderr and an exit status."""
    import grpc

    from share_gateway.cli.audit import AuditFailed
    from share_gateway.cli.console import warn
    from share_gateway.config_sources import ConfigError
    from share_gateway.crypto.errors import VerificationError
    from share_gateway.domain.errors import DomainError
    from share_gateway.ledger.verify import ProofError

    try:
        args.run(args)
    except (CommandError, ConfigError) as error:
        warn(f"share-gateway: {error}")
        raise SystemExit(2) from error
    except (AuditFailed, ProofError) as error:
        warn(f"share-gateway: {error}")
        raise SystemExit(1) from error
    except grpc.aio.AioRpcError as error:
        from share_gateway.cli.common import language
        from share_gateway.cli.messages import say
        from share_gateway.cli.views import rpc_error_view

        lang = language(args)
        warn(rpc_error_view(error, lead=say("node_refused", lang), language=lang))
        raise SystemExit(1) from error
    except (DomainError, VerificationError, FileNotFoundError) as error:
        warn(f"share-gateway: {error}")
        raise SystemExit(1) from error
