"""A development federation on disk: what ``pki init`` and the demo create.

Layout under one directory::

    authority/authority.key, authority.pub   federation authority (Ed25519); .pub is the key verifiers pin
    authority/rotations/NNNN.signed          authority rotations from the pinned key (``rotation.py``)
    ca/ca.key, ca.crt                        federation CA (ECDSA P-256)
    ca/issued.jsonl                          the issuance register: certificates issued on request (``enrol``)
    catalog.signed                           the catalog, signed by the authority
    revocations.signed                       the certificate revocation list, signed by the authority
    nodes/<region>/tls.key, tls.crt          node TLS (URI SAN sgw://node/<region>)
    nodes/<region>/signing.key, signing.pub  node payload key (Ed25519)
    nodes/<region>/witness.key, witness.pub  node witness key (Ed25519, cosigns peers' checkpoints)
    nodes/<region>/retired/<kind>-<id>.pub   a key replaced by a rotation (``rotation.py``; the manifest keeps it)
    nodes/<region>/node.yaml                 node configuration
    clients/<name>/tls.key, tls.crt, ca.crt  client identities (sgw://institution/.. or sgw://person/..)
    clients/admin-<region>/...               each node's administrator (a person with the administrator role)

Keys are written unencrypted with mode 0600 from their first byte, in
directories of mode 0700: this is for development and demonstrations, not for
production key custody.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from stdnum.cn import ric

from share_gateway.catalog import AUTHORITY_KEY_NAME, open_catalog, sample_catalog_text, sign_catalog
from share_gateway.config_operations import listen_address
from share_gateway.crypto.keyfiles import private_directory, write_private
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.pki import (
    LEAF_DAYS,
    Issued,
    certificate_fingerprint,
    check_request,
    create_ca,
    issue_certificate,
    issue_for_request,
)
from share_gateway.domain.key_names import node_key_name, witness_key_name
from share_gateway.domain.principals import Identity, IdentityKind, Role, node_host_name
from share_gateway.federation.issuance_register import IssuedCertificate, read_register
from share_gateway.federation.manifest import Manifest, ManifestNode, open_manifest, sign_manifest
from share_gateway.federation.revocation_list import (
    RevocationList,
    RevokedCertificate,
    open_revocation_list,
    sign_revocation_list,
)

# A development manifest lasts this long: longer than the default expiry warning horizon (30 days,
# ``trust.expiry_warning_days``), or a fresh federation would warn from its first second. An authority re-signs
# well before expiry, and sets the horizon below the lifetime it signs for.
MANIFEST_DAYS = 90


def _write(path: Path, data: bytes, secret: bool = False) -> None:
    """A key is 0600 from its first byte; every directory made on the way, the federation's own included, is 0700."""
    if secret:
        write_private(path, data)
        return
    private_directory(path.parent)
    path.write_bytes(data)


@dataclass(frozen=True)
class ClientFiles:
    directory: Path

    @property
    def certificate(self) -> Path:
        return self.directory / "tls.crt"

    @property
    def key(self) -> Path:
        return self.directory / "tls.key"

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def authority_key(self) -> Path:
        return self.root / "authority" / "authority.key"

    @property
    def authority_public_key(self) -> Path:
        return self.root / "authority" / "authority.pub"

    @property
    def ca_certificate(self) -> Path:
        return self.root / "ca" / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca" / "ca.key"

    @property
    def issuance_register(self) -> Path:
        return self.root / "ca" / "issued.jsonl"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.signed"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.signed"

    @property
    def revocation_list(self) -> Path:
        return self.root / "revocations.signed"

    def node_dir(self, region: str) -> Path:
        return self.root / "nodes" / region

    def node_config(self, region: str) -> Path:
        return self.node_dir(region) / "node.yaml"

    def node_public_key(self, region: str) -> Path:
        return self.node_dir(region) / "signing.pub"

    def node_witness_key(self, region: str) -> Path:
        return self.node_dir(region) / "witness.pub"

    def client(self, name: str) -> ClientFiles:
        return ClientFiles(self.root / "clients" / name)

    def ca(self) -> Issued:
        return Issued(self.ca_key.read_bytes(), self.ca_certificate.read_bytes())

    def authority(self) -> SigningKey:
        return SigningKey.load(AUTHORITY_KEY_NAME, self.authority_key)

    def node_verifying_key(self, region: str) -> VerifyingKey:
        return VerifyingKey.from_pem(node_key_name(region), self.node_public_key(region).read_bytes())

    def witness_verifying_key(self, region: str) -> VerifyingKey | None:
        """The node's witness key, if it has one (nodes created before witness keys have none)."""
        path = self.node_witness_key(region)
        return VerifyingKey.from_pem(witness_key_name(region), path.read_bytes()) if path.exists() else None


def init_authority(layout: Layout, now: datetime) -> None:
    """Create the federation authority key and CA (once)."""
    authority = SigningKey.generate(AUTHORITY_KEY_NAME)
    _write(layout.authority_key, authority.to_pem(), secret=True)
    _write(layout.authority_public_key, authority.verifying_key.to_pem())
    ca = create_ca("share-gateway federation CA", now)
    _write(layout.ca_key, ca.key_pem, secret=True)
    _write(layout.ca_certificate, ca.cert_pem)
    _publish(layout.revocation_list, sign_revocation_list(RevocationList(1, now), authority))


def _publish(path: Path, data: bytes) -> None:
    """Replace a file nodes watch in one rename, so that none ever reads half of it."""
    private_directory(path.parent)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


# What ``rotation.py`` writes the federation's files with: the same modes, the same one-rename replacement.
write_file = _write
publish = _publish


def revoke_certificate(layout: Layout, revoked: RevokedCertificate, now: datetime) -> RevocationList:
    """Sign the next revocation list with ``revoked`` on it, where every node of the federation watches it."""
    authority = layout.authority()
    current = open_revocation_list(layout.revocation_list.read_bytes(), KeyRing([authority.verifying_key]))
    if revoked.fingerprint in current.revocation_list.fingerprints:
        return current.revocation_list
    following = current.revocation_list.revoking([revoked], now)
    _publish(layout.revocation_list, sign_revocation_list(following, authority))
    return following


def add_node(
    layout: Layout,
    region: str,
    now: datetime,
    *,
    listen: str = "127.0.0.1:0",
    public_listen: str | None = "127.0.0.1:0",
    database: str | None = None,
) -> Path:
    """TLS certificate, signing key and configuration of one regional node, and its development administrator's
    client identity (``admin-<region>``); returns the config path."""
    directory = layout.node_dir(region)
    tls = node_certificate(layout, region, now, listen_address(listen)[0])
    _write(directory / "tls.key", tls.key_pem, secret=True)
    _write(directory / "tls.crt", tls.cert_pem)
    signing = SigningKey.generate(node_key_name(region))
    _write(directory / "signing.key", signing.to_pem(), secret=True)
    _write(directory / "signing.pub", signing.verifying_key.to_pem())
    witness = SigningKey.generate(witness_key_name(region))
    _write(directory / "witness.key", witness.to_pem(), secret=True)
    _write(directory / "witness.pub", witness.verifying_key.to_pem())
    config = {
        "region": region,
        "listen": listen,
        "public_listen": public_listen,
        "database": database or f"sqlite:///{region}.db",
        "tls": {"certificate": "tls.crt", "key": "tls.key", "ca": os.path.relpath(layout.ca_certificate, directory)},
        "signing_key": "signing.key",
        "witness_key": "witness.key",
        "authority_key": os.path.relpath(layout.authority_public_key, directory),
        "catalog": os.path.relpath(layout.catalog, directory),
        "manifest": os.path.relpath(layout.manifest, directory),
        "revocation_list": os.path.relpath(layout.revocation_list, directory),
        # Only this region's development administrator changes its grants (one CA serves every region).
        "administrators": [administrator_identity(region).uri],
    }
    _write(layout.node_config(region), yaml.safe_dump(config, sort_keys=False).encode())
    add_administrator(layout, region, now)
    return layout.node_config(region)


def node_certificate(
    layout: Layout, region: str, now: datetime, host: str = "127.0.0.1", days: int = LEAF_DAYS
) -> Issued:
    """A node's TLS certificate from the federation CA, with the names its clients and peers check: the loopback
    and the address it listens on (a node reached at another host, as in a network of its own)."""
    addresses = ["127.0.0.1", "::1"]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name, not an address
        address = None
    if address is not None and not address.is_unspecified and str(address) not in addresses:
        addresses.append(str(address))
    return issue_certificate(
        layout.ca(),
        Identity(IdentityKind.NODE, region),
        now,
        server=True,
        dns_names=["localhost", node_host_name(region)],
        ip_addresses=addresses,
        days=days,
    )


def administrator_identity(region: str) -> Identity:
    """A development administrator for a region's node: a resident ID of the region (born 1980-01-01, 001)."""
    number = f"{region}19800101001"
    return Identity(IdentityKind.PERSON, number + ric.calc_check_digit(number + "0"))


def add_administrator(layout: Layout, region: str, now: datetime) -> ClientFiles:
    """The client identity ``admin-<region>``: a certificate with the administrator role (AdminService)."""
    return add_client(layout, f"admin-{region}", administrator_identity(region), now, (Role.ADMINISTRATOR,))


def add_client(layout: Layout, name: str, identity: Identity, now: datetime, roles: Sequence[Role] = ()) -> ClientFiles:
    files = layout.client(name)
    issued = issue_certificate(layout.ca(), identity, now, roles=roles)
    _write(files.key, issued.key_pem, secret=True)
    _write(files.certificate, issued.cert_pem)
    _write(files.ca, layout.ca_certificate.read_bytes())
    return files


def enrol(
    layout: Layout, csr_pem: bytes, roles: Collection[Role], now: datetime, days: int = LEAF_DAYS
) -> tuple[bytes, IssuedCertificate]:
    """Issue the certificate a request asks for, once checked, and record it in the issuance register.

    Recorded before it is handed out: a certificate that exists is always one a revocation can name. A request
    refused (``InvalidInput``) writes nothing.
    """
    cert_pem = issue_for_request(layout.ca(), check_request(csr_pem, now.date()), roles, now, days)
    entry = IssuedCertificate.of(cert_pem, now)
    _append(layout.issuance_register, entry.line())
    return cert_pem, entry


def _append(path: Path, line: bytes) -> None:
    """Add one line at the end, in one write, synced: earlier lines are never rewritten."""
    private_directory(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def issued_certificates(layout: Layout) -> list[IssuedCertificate]:
    """The issuance register's entries, oldest first (none before the first enrolment)."""
    path = layout.issuance_register
    return read_register(path.read_bytes().splitlines()) if path.exists() else []


def sign_sample_catalog(layout: Layout, text: str | None = None) -> None:
    _write(layout.catalog, sign_catalog(text or sample_catalog_text(), layout.authority()))


def create_federation(
    root: Path,
    regions: Iterable[str],
    clients: Mapping[str, Identity],
    now: datetime,
    databases: Mapping[str, str] | None = None,
    roles: Mapping[str, Sequence[Role]] | None = None,
    ports: Mapping[str, int] | None = None,
    hosts: Mapping[str, str] | None = None,
) -> Layout:
    """Everything a local federation needs: authority, CA, signed catalog, nodes, clients and manifest.

    Nodes listen on ``ports`` where given (a manifest needs endpoints its peers can reach), else on any free port,
    at ``hosts`` where given (a region in a network of its own), else on the loopback.
    """
    layout = Layout(root)
    init_authority(layout, now)
    sign_sample_catalog(layout)
    for region in regions:
        port, host = (ports or {}).get(region, 0), (hosts or {}).get(region, "127.0.0.1")
        add_node(layout, region, now, listen=f"{host}:{port}", database=(databases or {}).get(region))
    for name, identity in clients.items():
        add_client(layout, name, identity, now, (roles or {}).get(name, ()))
    write_manifest(layout, 1, now + timedelta(days=MANIFEST_DAYS))
    return layout


def write_manifest(layout: Layout, version: int, expires: datetime, endpoints: Mapping[str, str] | None = None) -> Path:
    """Sign a manifest of every node under ``layout``: endpoint (from its configuration unless given),
    signing key, TLS certificate fingerprint, witness key, and the digest of the catalog in force."""
    authority = layout.authority()
    catalog = open_catalog(layout.catalog.read_bytes(), KeyRing([authority.verifying_key]))
    nodes = {}
    node_directories = layout.root / "nodes"
    for directory in sorted(node_directories.iterdir() if node_directories.exists() else ()):
        region = directory.name
        config = yaml.safe_load((directory / "node.yaml").read_text())
        nodes[region] = ManifestNode(
            region,
            (endpoints or {}).get(region, config["listen"]),
            layout.node_verifying_key(region),
            certificate_fingerprint((directory / "tls.crt").read_bytes()),
            layout.witness_verifying_key(region),
        )
    if layout.manifest.exists():  # re-signing keeps every node's key history
        previous = open_manifest(layout.manifest.read_bytes(), KeyRing([authority.verifying_key])).manifest.nodes
        nodes = {r: n.with_history_of(previous[r]) if r in previous else n for r, n in nodes.items()}
    # Format 4: every key listed as a C2SP verifier key too, so an outsider reads them from the manifest as they are.
    manifest = Manifest(version, expires, catalog.digest, nodes, verifier_keys=True)
    _write(layout.manifest, sign_manifest(manifest, authority))
    return layout.manifest


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback interface for a local federation's endpoints, kept from others for a minute.

    A port that was only found free goes back to the pool at once: another program binding port 0,
    or the local end of any outgoing connection, could take it before the node binds it (which then
    fails with "Address already in use"; seen with two test suites on one machine). Each port is
    left in TIME_WAIT instead, as ephemeral-port-reserve does: for 60 s the kernel hands it to no
    one, while a server that binds it with SO_REUSEADDR, as gRPC does, still can.
    """
    return [_reserve_port() for _ in range(count)]


def _reserve_port() -> int:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        address = listener.getsockname()
        with socket.create_connection(address):
            accepted, _ = listener.accept()
            accepted.close()  # closed first, this end of the connection holds the port in TIME_WAIT
        return int(address[1])
