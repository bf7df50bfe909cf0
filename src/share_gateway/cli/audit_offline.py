"""``audit verify`` and ``audit verify-bundle``: the checks an officer runs without asking the node anything.

Keys come from every ``--node-key`` given (several: a key rotated keeps the
same name) and from every ``--manifest`` (the authority vouches for each
node's log key and witness key, and, from format 3 on, for the keys it held
before and when each retired: a retired key verifies only what it signed
before). Cosignatures are checked against the
witnesses the manifests list; ``--witnesses N`` demands N of them (default:
1 where a manifest lists a witness for the log, 0 to skip).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.config import NodeConfig
    from share_gateway.crypto.keys import KeyRing, VerifyingKey
    from share_gateway.federation.manifest import Manifest
    from share_gateway.ledger.cosignatures import Witness, Witnessing


def add_commands(audit: Commands) -> None:
    verify = audit.add_parser("verify", help="verify the whole log on the node's database")
    verify.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    verify.add_argument(
        "--node-key", action="append", default=[], help="REGION=signing.pub (repeat; default: the manifest's key)"
    )
    verify.add_argument(
        "--checkpoint", type=Path, action="append", default=[], help="a checkpoint kept earlier (repeat)"
    )
    _witness_options(verify, "default: the configuration's")
    verify.set_defaults(run=cmd_verify)
    bundle = audit.add_parser("verify-bundle", help="verify an exported bundle offline (no node needed)")
    bundle.add_argument("bundle", type=Path, help="the bundle file, as export wrote it")
    bundle.add_argument("--node-key", action="append", default=[], help="REGION=signing.pub (repeat)")
    _witness_options(bundle, "required with --manifest")
    bundle.set_defaults(run=cmd_verify_bundle)


def _witness_options(parser: argparse.ArgumentParser, authority: str) -> None:
    parser.add_argument(
        "--manifest", type=Path, action="append", default=[], help="a signed federation manifest (repeat)"
    )
    parser.add_argument("--authority", type=Path, help=f"authority.pub, to verify the manifests ({authority})")
    parser.add_argument(
        "--witnesses",
        type=int,
        metavar="N",
        help="cosignatures required (default: 1 where a manifest lists witnesses for the log; 0 skips)",
    )


@dataclass(frozen=True)
class Trust:
    """What the officer's inputs vouch for: log keys and the log's witnesses."""

    keys: KeyRing
    witnesses: tuple[Witness, ...]
    quorum: int


def _fail(message: str) -> Exception:
    from share_gateway.cli.audit import AuditFailed

    return AuditFailed(message)


def _manifests(paths: Sequence[Path], authority: Path | None) -> list[Manifest]:
    from share_gateway.cli.common import authority_ring
    from share_gateway.federation.manifest import open_manifest

    if paths and authority is None:
        raise _fail("--manifest needs --authority authority.pub to verify it")
    if authority is None:
        return []
    ring = authority_ring(authority)
    return [open_manifest(path.read_bytes(), ring).manifest for path in paths]


def _trust(args: argparse.Namespace, region: str, fallback: Sequence[VerifyingKey] = ()) -> Trust:
    """Keys from every --node-key (else every manifest, else ``fallback``), witnesses from every manifest."""
    from share_gateway.cli.common import node_keys
    from share_gateway.crypto.keys import KeyRing
    from share_gateway.ledger.cosignatures import merge_witnesses

    manifests = _manifests(args.manifest, args.authority)
    given = node_keys(args.node_key)
    if given is not None:
        keys = given
    elif any(region in m.nodes for m in manifests):
        # Every key the manifests list for the node, earlier ones too; the newest manifest says when each retired.
        ordered = sorted((m for m in manifests if region in m.nodes), key=lambda m: m.version)
        keys = KeyRing().merged(*(m.nodes[region].signing_keys for m in ordered))
    else:
        keys = KeyRing(fallback)
    witnesses = merge_witnesses(m.witnesses_of(region) for m in manifests if region in m.nodes)
    quorum = args.witnesses if args.witnesses is not None else (1 if witnesses else 0)
    if quorum < 0:
        raise _fail("--witnesses is a count of cosignatures, 0 or more")
    return Trust(keys, witnesses, quorum)


def _warn_unwitnessed(trust: Trust, origin: str, manifests: int) -> None:
    from share_gateway.cli.console import warn

    if trust.witnesses:
        return
    why = "no manifest lists another node with a witness key" if manifests else "no --manifest names its witnesses"
    warn(
        f"warning: no peer witnesses the log of {origin} ({why}): cosignatures are not checked, and a history "
        "rewritten and re-signed with the node's own key would not be caught by them"
    )


def _config_trust(args: argparse.Namespace, config: NodeConfig) -> Trust:
    from share_gateway.crypto.keys import SigningKey

    if config.manifest is not None and not args.manifest:
        args.manifest = [config.manifest]
    if args.authority is None and args.manifest:
        args.authority = config.authority_key
    own = SigningKey.load(config.key_name, config.signing_key).verifying_key
    return _trust(args, config.region, [own])


def cmd_verify(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import progress_bar, show, table
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.ledger.audit import audit_log

    config = NodeConfig.load(args.config)
    trust = _config_trust(args, config)
    origin = config.key_name
    _warn_unwitnessed(trust, origin, len(args.manifest))
    with node_store(config, migrated=False) as store, progress_bar("verifying", "leaves") as progress:
        kept = [path.read_bytes() for path in args.checkpoint]
        leaves = progress.add_task("verifying", total=None, visible=False)  # shown from the first leaf on
        started = time.monotonic()
        report = audit_log(
            store.log,
            trust.keys,
            origin,
            kept,
            progress=lambda done, total: progress.update(leaves, completed=done, total=total, visible=True),
            witnesses=trust.witnesses,
            quorum=trust.quorum,
        )
    seconds = time.monotonic() - started
    show(
        table(
            ["leaves", "verified", "redacted", "checkpoints", "findings", "seconds"],
            [
                (
                    report.size,
                    report.checked,
                    report.redacted,
                    len(report.checkpoints),
                    len(report.findings),
                    f"{seconds:.1f}",
                )
            ],
        )
    )
    if trust.witnesses:
        _show_witnessing(report.cosigned, report.legacy, trust)
    if not report.ok:
        for finding in report.findings[:20]:
            show(f"  {finding}")
        raise _fail(f"the log does not verify; first: {report.first}")
    show(f"the log of {origin} verifies: {report.size} leaves under {len(report.checkpoints)} signed checkpoints")


def _show_witnessing(cosigned: dict[int, frozenset[str]], legacy: int, trust: Trust) -> None:
    from share_gateway.cli.console import show

    if cosigned:
        latest = max(cosigned)
        who = ", ".join(sorted(cosigned[latest])) or "no witness"
        show(f"the latest checkpoint, of size {latest}, is cosigned by {who} (quorum {trust.quorum})")
    unwitnessed = sorted(size for size, regions in cosigned.items() if not regions)
    if unwitnessed:
        sizes = ", ".join(str(s) for s in unwitnessed[:10]) + (" …" if len(unwitnessed) > 10 else "")
        show(f"{len(unwitnessed)} checkpoint(s) no witness cosigned (sizes {sizes})")
    if legacy:
        show(
            f"{legacy} legacy cosignature(s) (plain log-key signatures from before cosignature/v1) verify "
            "but do not count toward the quorum"
        )


def cmd_verify_bundle(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.ledger.bundle import bundle_origin, verify_bundle

    data = args.bundle.read_bytes()
    origin = bundle_origin(data)
    if not args.node_key and not args.manifest:
        raise _fail("give the node's key (--node-key REGION=signing.pub) or the federation's --manifest")
    region = origin.rsplit("/", 1)[-1]
    trust = _trust(args, region)
    if not any(key.name == origin for key in trust.keys.values()):
        raise _fail(f"the bundle is of {origin}; no --node-key or manifest gives that node's key")
    _warn_unwitnessed(trust, origin, len(args.manifest))
    verified = verify_bundle(data, trust.keys, origin, trust.witnesses, trust.quorum)
    show(
        f"{len(verified.events)} event(s) and {len(verified.redacted)} redacted leaf(s) are in the log of {origin} "
        f"of size {verified.checkpoint.size}: verified offline"
    )
    for witnessing in verified.witnessing:
        _show_cosigners(witnessing)


def _show_cosigners(witnessing: Witnessing) -> None:
    from share_gateway.cli.console import show
    from share_gateway.ledger.cosignatures import Status

    for cosigned in witnessing.cosigned:
        note = " (does not count toward the quorum)" if cosigned.status is Status.LEGACY else ""
        show(f"  {cosigned}{note}")
