"""``pki init``: a development federation's authority key, CA, signed sample catalog, node and client certificates,
and its (empty) certificate revocation list; ``pki request`` (by an institution or person) and ``pki issue`` (by
the CA holder, offline): enrolment by certificate signing request, each issue recorded in the issuance register;
``pki revoke``: the next list, revoking one certificate; ``pki install-revocations``: install a list into a node's
database (a running node takes it at its next poll)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.devkit import Layout
    from share_gateway.domain.principals import Identity, Role


def add_commands(commands: Commands) -> None:
    pki = commands.add_parser("pki", help="development PKI").add_subparsers(dest="pki", required=True)
    init = pki.add_parser("init", help="authority key, CA, signed sample catalog, node and client certificates")
    init.add_argument("--dir", type=Path, required=True, help="directory of the federation (created if missing)")
    init.add_argument("--region", action="append", default=[], help="GB/T 2260 region code of a node (repeat)")
    init.add_argument("--client", action="append", default=[], help="NAME=sgw://institution/<USCC> (repeat)")
    init.add_argument("--role", action="append", default=[], help="NAME=compliance_officer|administrator: a role")
    init.add_argument("--base-port", type=int, default=0, help="fixed mTLS ports from here (default: any free)")
    init.set_defaults(run=cmd_pki_init)

    request = pki.add_parser("request", help="a new private key and a certificate signing request for an identity")
    request.add_argument("--identity", required=True, help="sgw://institution/<USCC> or sgw://person/<resident ID>")
    request.add_argument("--role", action="append", default=[], help="a role to ask for (repeat; the CA decides)")
    request.add_argument("--out", type=Path, required=True, help="directory for tls.key (0600) and tls.csr")
    request.set_defaults(run=cmd_pki_request)

    issue = pki.add_parser("issue", help="check a certificate signing request and issue its client certificate")
    issue.add_argument("--authority", type=Path, required=True, help="the federation's directory (pki init)")
    issue.add_argument("--csr", type=Path, required=True, help="the request (PEM), as `pki request` makes it")
    issue.add_argument("--out", type=Path, required=True, help="where to write the certificate (a new file)")
    issue.add_argument("--days", type=int, help="validity in days, from 1 to the most (and default) of 825")
    issue.add_argument(
        "--grant-role", action="append", default=[], help="a role the authority grants (repeat): as the request asks"
    )
    issue.set_defaults(run=cmd_pki_issue)

    revoke = pki.add_parser("revoke", help="sign the next certificate revocation list, revoking one certificate")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("certificate", type=Path, nargs="?", help="the certificate to revoke (PEM)")
    which.add_argument("--fingerprint", help="or its SHA-256 fingerprint (hex of the DER)")
    revoke.add_argument("--reason", required=True, help="why it is revoked (key compromise, superseded...)")
    revoke.add_argument("--federation", type=Path, required=True, help="the federation's directory (pki init)")
    revoke.set_defaults(run=cmd_pki_revoke)

    install = pki.add_parser("install-revocations", help="install a signed revocation list into a node's database")
    install.add_argument("revocation_list", type=Path, help="the signed revocation list")
    install.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    install.set_defaults(run=cmd_pki_install_revocations)


def _client_spec(text: str) -> tuple[str, Identity]:
    from share_gateway.domain.errors import DomainError
    from share_gateway.domain.principals import Identity

    name, _, uri = text.partition("=")
    if not uri:
        raise CommandError(f"--client wants NAME=sgw://institution/<USCC> or NAME=sgw://person/<ID>, not {text!r}")
    try:
        return name, Identity.from_uri(uri)
    except DomainError as error:
        raise CommandError(str(error)) from error


def cmd_pki_init(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.cli.federation import next_manifest_version
    from share_gateway.devkit import (
        MANIFEST_DAYS,
        Layout,
        add_client,
        add_node,
        init_authority,
        sign_sample_catalog,
        write_manifest,
    )
    from share_gateway.domain.principals import Role

    layout = Layout(args.dir)
    now = datetime.now(UTC)
    if not layout.authority_key.exists():
        init_authority(layout, now)
        sign_sample_catalog(layout)
        show(f"federation authority and CA created in {args.dir}")
    show(f"authority key {layout.authority().verifying_key.verifier_key}")
    for region in args.region:
        add_node(layout, region, now, listen=f"127.0.0.1:{args.base_port}" if args.base_port else "127.0.0.1:0")
        show(f"node {region}: {layout.node_config(region)}, administrator {layout.client(f'admin-{region}').directory}")
        show(_node_keys(layout, region))
        if args.base_port:
            args.base_port += 1
    if args.region:
        version = next_manifest_version(layout)
        write_manifest(layout, version, now + timedelta(days=MANIFEST_DAYS))
        show(f"federation manifest version {version}: {layout.manifest}")
    roles: dict[str, list[Role]] = {}
    for spec in args.role:
        name, _, role = spec.partition("=")
        try:
            roles.setdefault(name, []).append(Role(role))
        except ValueError as error:
            raise CommandError(f"--role wants NAME={'|'.join(Role)}, not {spec!r}") from error
    for spec in args.client:
        name, identity = _client_spec(spec)
        files = add_client(layout, name, identity, now, roles.get(name, ()))
        extra = f" with roles {', '.join(roles[name])}" if name in roles else ""
        show(f"client {name} ({identity.uri}){extra}: {files.directory}")


def _node_keys(layout: Layout, region: str) -> str:
    """A node's keys as C2SP verifier keys: its log key (signed-note type 0x01), its witness key (type 0x04)."""
    from share_gateway.crypto.cosignature import CosignerKey

    lines = [f"  log key     {layout.node_verifying_key(region).verifier_key}"]
    witness = layout.witness_verifying_key(region)
    if witness is not None:
        lines.append(f"  witness key {CosignerKey.of(witness).verifier_key}")
    return "\n".join(lines)


def _roles(names: list[str], option: str) -> list[Role]:
    from share_gateway.domain.principals import Role

    try:
        return [Role(name) for name in names]
    except ValueError as error:
        raise CommandError(f"{option} wants one of {', '.join(Role)}, not {error}") from error


def cmd_pki_request(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.crypto.keyfiles import write_private
    from share_gateway.crypto.pki import create_request
    from share_gateway.domain.enrolment import asked
    from share_gateway.domain.errors import InvalidInput
    from share_gateway.domain.principals import role_uri

    key, csr = args.out / "tls.key", args.out / "tls.csr"
    if key.exists():
        raise CommandError(f"{key} exists: a request never replaces a private key")
    uris = [args.identity, *(role_uri(role) for role in _roles(args.role, "--role"))]
    try:
        enrolment = asked(uris, datetime.now(UTC).date())
    except InvalidInput as error:
        raise CommandError(f"no request made: {error}") from error
    requested = create_request(enrolment)
    write_private(key, requested.key_pem)
    csr.write_bytes(requested.csr_pem)
    show(f"private key {key} (keep it here); request for {enrolment.identity.uri}: send {csr} to the authority")


def cmd_pki_issue(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.crypto.pki import LEAF_DAYS
    from share_gateway.devkit import Layout, enrol
    from share_gateway.domain.errors import InvalidInput
    from share_gateway.domain.events import format_instant

    layout = Layout(args.authority)
    if not layout.ca_key.exists():
        raise CommandError(f"no CA in {args.authority} (pki init makes one)")
    if args.out.exists():
        raise CommandError(f"{args.out} exists: a certificate is written to a new file")
    if not args.out.parent.is_dir():
        raise CommandError(f"{args.out.parent} is not a directory")
    roles = _roles(args.grant_role, "--grant-role")
    days = LEAF_DAYS if args.days is None else args.days
    try:
        cert_pem, entry = enrol(layout, args.csr.read_bytes(), roles, datetime.now(UTC), days)
    except InvalidInput as error:
        raise CommandError(f"request refused, nothing issued: {error}") from error
    args.out.write_bytes(cert_pem)
    show(
        f"issued {args.out} to {entry.identity}{' with roles ' + ', '.join(entry.roles) if entry.roles else ''}\n"
        f"fingerprint {entry.fingerprint}  serial {entry.serial}\n"
        f"valid {format_instant(entry.not_before)} to {format_instant(entry.not_after)}\n"
        f"recorded in {layout.issuance_register}"
    )


def cmd_pki_revoke(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.crypto.pki import certificate_fingerprint, certificate_serial
    from share_gateway.devkit import Layout, issued_certificates, revoke_certificate
    from share_gateway.federation.revocation_list import RevokedCertificate

    layout = Layout(args.federation)
    if args.certificate is not None:
        pem = args.certificate.read_bytes()
        fingerprint, serial = certificate_fingerprint(pem), certificate_serial(pem)
    else:
        # A certificate the authority issued on request is named by the fingerprint its register recorded,
        # and its serial comes from there; any other fingerprint is revoked with its serial unknown.
        fingerprint = args.fingerprint.strip().lower().replace(":", "")
        recorded = {entry.fingerprint: entry.serial for entry in issued_certificates(layout)}
        serial = recorded.get(fingerprint, "")
    now = datetime.now(UTC)
    following = revoke_certificate(layout, RevokedCertificate(fingerprint, serial, args.reason, now), now)
    show(
        f"revocation list version {following.version}: {len(following.revoked)} certificate(s) revoked, "
        f"{fingerprint} among them: {layout.revocation_list}"
    )


def cmd_pki_install_revocations(args: argparse.Namespace) -> None:
    from share_gateway.cli.common import authority_ring
    from share_gateway.cli.console import show
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.gateway.certificates import install_revocation_list

    config = NodeConfig.load(args.config)
    authority = authority_ring(config.authority_key)
    with node_store(config, migrated=True) as store:
        signed, new = install_revocation_list(store, args.revocation_list.read_bytes(), authority, datetime.now(UTC))
    version = signed.revocation_list.version
    show(f"revocation list version {version} {'installed' if new else 'was installed already'}")
