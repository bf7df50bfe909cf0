"""``grant ... --config``: the node's operator changes grants in its database before the node serves.

For bootstrapping only (a running node is administered over AdminService). Nothing changes grants unlogged:
each act is written with its event in the same transaction, the node itself as actor (the operator has no
certificate here) and the operator's name (``--operator``, else the login name) beside the document.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from share_gateway.cli.common import CommandError, authority_ring
from share_gateway.cli.grant import GrantLine, day_start


def add_offline(args: argparse.Namespace) -> list[str]:
    from share_gateway.catalog import open_catalog
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.domain.errors import InvalidInput, InvalidState
    from share_gateway.domain.grant_acts import check_document
    from share_gateway.domain.policy import Grant, GrantRole, check_registration
    from share_gateway.gateway.grants import enrol, operator_act

    config = NodeConfig.load(args.config)
    catalog = open_catalog(config.catalog.read_bytes(), authority_ring(config.authority_key)).catalog
    now = datetime.now(UTC)
    until = day_start(args.until)
    scopes = [(GrantRole.INQUIRE, p) for p in args.inquire] + [(GrantRole.SUBMIT, t) for t in args.submit]
    grants = [Grant(role, scope, now, until) for role, scope in scopes]
    try:
        check_document(args.document)
        check_registration(catalog, args.institution, args.kind, grants)
    except InvalidInput as error:
        raise CommandError(f"refused: {error}") from error
    act = operator_act(config.region, args.document, _operator(args))
    with node_store(config, migrated=True) as store:
        try:
            grant_ids = enrol(store, args.institution, grants, now, args.kind, args.name or args.institution, act=act)
        except InvalidState as error:
            raise CommandError(f"{error}: register it with --kind") from error
    said = [f"institution {args.institution} registered as {args.kind}"] if args.kind else []
    return said + [
        f"grant {grant_id}: {args.institution} may {role.value} {scope}"
        for grant_id, (role, scope) in zip(grant_ids, scopes, strict=True)
    ]


def _operator(args: argparse.Namespace) -> str:
    import getpass

    return str(args.operator or getpass.getuser())


def change_offline(args: argparse.Namespace) -> None:
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.domain.errors import DomainError
    from share_gateway.gateway.grants import change_grant, operator_act

    config = NodeConfig.load(args.config)
    act = operator_act(config.region, args.document, _operator(args))
    with node_store(config, migrated=True) as store:
        try:
            change_grant(store, args.grant_id, day_start(args.until), datetime.now(UTC), act=act)
        except DomainError as error:
            raise CommandError(str(error)) from error


def revoke_offline(args: argparse.Namespace) -> None:
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.domain.errors import DomainError
    from share_gateway.gateway.grants import operator_act, revoke_grant

    config = NodeConfig.load(args.config)
    act = operator_act(config.region, args.document, _operator(args))
    with node_store(config, migrated=True) as store:
        try:
            revoke_grant(store, args.grant_id, datetime.now(UTC), act=act)
        except DomainError as error:
            raise CommandError(str(error)) from error


def list_offline(args: argparse.Namespace) -> list[GrantLine]:
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig

    with node_store(NodeConfig.load(args.config), migrated=True) as store:
        rows = store.grants.rows(args.institution)
    return [
        (
            r.grant_id,
            r.institution,
            r.institution_kind,
            r.grant.role.value,
            r.grant.scope,
            r.grant.valid_until,
            r.revoked_at,
        )
        for r in rows
    ]
