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
    from share_gateway.ledger.audit import KeptCheckpoint
    from share_gateway.ledger.cosignatures import Witness, Witnessing


def add_commands(audit: Commands) -> None:
    verify = audit.add_parser(
        "verify",
        help="verify the whole log on the node's database",
        description="Exit status: 0 when the log verifies, 1 when it does not (the findings say where), 2 when an "
        "input is wrong (a --checkpoint file that is not a checkpoint of this log, ...).",
    )
    verify.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    verify.add_argument(
        "--node-key", action="append", default=[], help="REGION=signing.pub (repeat; default: the manifest's key)"
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a checkpoint kept earlier with audit checkpoint --out (repeat)",
    )
    _witness_options(verify, "default: the configuration's")
    verify.set_defaults(run=cmd_verify)
    bundle = audit.add_parser("verify-bundle", help="verify an exported bundle offline (no node needed)")
    bundle.add_argument("bundle", type=Path, help="the bundle file, as export wrote it")
    trust_options(bundle, "required with --manifest")
    bundle.set_defaults(run=cmd_verify_bundle)
    proof = audit.add_parser(
        "verify-proof",
        help="verify a proof file offline: a consistency proof (audit prove --consistency --out) or a tlog-proof",
    )
    proof.add_argument("proof", type=Path, help="the proof file, as audit prove --out wrote it")
    proof.add_argument("--entry", type=Path, help="the entry's bytes, for a tlog-proof (inclusion)")
    trust_options(proof, "required with --manifest")
    proof.set_defaults(run=cmd_verify_proof)


def trust_options(parser: argparse.ArgumentParser, authority: str) -> None:
    """Where the log's keys come from: --node-key, or the manifests (with the authority's key) and witnesses."""
    parser.add_argument("--node-key", action="append", default=[], help="REGION=signing.pub (repeat)")
    _witness_options(parser, authority)


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


def trust_of(args: argparse.Namespace, region: str, fallback: Sequence[VerifyingKey] = ()) -> Trust:
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
    return trust_of(args, config.region, [own])


def kept_checkpoints(paths: Sequence[Path], trust: Trust, origin: str) -> list[KeptCheckpoint]:
    """Each ``--checkpoint`` file, checked to be what it should: a checkpoint of this log signed by its key. Anything
    else is the officer's wrong input, said as such (what the file is instead), not a finding about the log."""
    from share_gateway.cli.common import CommandError
    from share_gateway.crypto.errors import VerificationError
    from share_gateway.ledger.audit import KeptCheckpoint
    from share_gateway.ledger.checkpoint import open_checkpoint
    from share_gateway.ledger.proof_files import NotACheckpoint, read_checkpoint

    kept = []
    for path in paths:
        data = path.read_bytes()
        try:
            claimed = read_checkpoint(data, str(path))
        except NotACheckpoint as error:
            hint = " (the checkpoint to keep is what audit checkpoint --out writes)"
            raise CommandError(f"--checkpoint {error}{hint}") from error
        if claimed.origin != origin:
            raise CommandError(f"--checkpoint {path} is a checkpoint of {claimed.origin}, not of this log ({origin})")
        try:
            open_checkpoint(data, trust.keys, origin)
        except VerificationError as error:
            raise CommandError(
                f"--checkpoint {path} is a checkpoint of {origin} of size {claimed.size}, but no key given for that "
                f"log verifies it ({error}): give the key that signed it (--node-key, or a manifest listing it)"
            ) from error
        kept.append(KeptCheckpoint(str(path), data))
    return kept


def cmd_verify(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import progress_bar, show, table
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.ledger.audit import audit_log
    from share_gateway.ledger.audit_index import audit_index

    config = NodeConfig.load(args.config)
    trust = _config_trust(args, config)
    origin = config.key_name
    kept = kept_checkpoints(args.checkpoint, trust, origin)
    _warn_unwitnessed(trust, origin, len(args.manifest))
    with node_store(config, migrated=False) as store, progress_bar("verifying", "leaves") as progress:
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
        audit_index(store.log, store.log.index, trust.keys, origin, report)
    seconds = time.monotonic() - started
    first = report.first
    show(
        table(
            ["leaves", "verified", "redacted", "checkpoints", "findings", "first finding", "seconds"],
            [
                (
                    report.size,
                    report.verified,
                    report.redacted,
                    len(report.checkpoints),
                    len(report.findings),
                    first.location if first else "none",
                    f"{seconds:.1f}",
                )
            ],
        )
    )
    if trust.witnesses:
        _show_witnessing(report.cosigned, report.legacy, trust)
    if first is not None:
        for finding in report.ordered[:20]:
            show(f"  {finding}")
        if len(report.findings) > 20:
            show(f"  … and {len(report.findings) - 20} more")
        raise _fail(f"the log does not verify; first: {first}")
    show(f"the log of {origin} verifies: {report.size} leaves under {len(report.checkpoints)} signed checkpoints")
    if report.index_checkpoints:
        show(f"its index matches the log under {report.index_checkpoints} signed index checkpoints")


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
    trust = trust_of(args, region)
    if not any(key.name == origin for key in trust.keys.values()):
        raise _fail(f"the bundle is of {origin}; no --node-key or manifest gives that node's key")
    _warn_unwitnessed(trust, origin, len(args.manifest))
    verified = verify_bundle(data, trust.keys, origin, trust.witnesses, trust.quorum)
    show(
        f"{len(verified.events)} event(s) and {len(verified.redacted)} redacted leaf(s) are in the log of {origin} "
        f"of size {verified.checkpoint.size}: verified offline"
    )
    complete = verified.complete
    if complete is None:
        show("completeness not proven (a share-gateway/audit-bundle@v1 bundle): events may have been left out")
    else:
        span = "" if complete.since is None and complete.until is None else f" in [{complete.since}, {complete.until})"
        show(
            f"complete: these are all {complete.leaves} event(s) about {complete.key}{span} in the node's signed "
            f"index of the log of size {complete.index.size}"
        )
    for witnessing in verified.witnessing:
        _show_cosigners(witnessing)


def _show_cosigners(witnessing: Witnessing) -> None:
    from share_gateway.cli.console import show
    from share_gateway.ledger.cosignatures import Status

    for cosigned in witnessing.cosigned:
        note = " (does not count toward the quorum)" if cosigned.status is Status.LEGACY else ""
        show(f"  {cosigned}{note}")


def cmd_verify_proof(args: argparse.Namespace) -> None:
    """A consistency proof (both checkpoints and the proof between them) or a tlog-proof with its entry, offline."""
    from share_gateway.cli.common import CommandError
    from share_gateway.cli.console import show
    from share_gateway.crypto.errors import VerificationError
    from share_gateway.ledger.checkpoint import PROOF_HEADER, TlogProof
    from share_gateway.ledger.proof_files import CONSISTENCY_HEADER, ConsistencyProof, describe, proof_origin

    data = args.proof.read_bytes()
    if not data.startswith((CONSISTENCY_HEADER.encode(), PROOF_HEADER.encode())):
        raise CommandError(f"{args.proof} is {describe(data)}, not a proof")
    if not args.node_key and not args.manifest:
        raise CommandError("give the node's key (--node-key REGION=signing.pub) or the federation's --manifest")
    try:
        origin = proof_origin(data)
    except VerificationError as error:
        raise CommandError(f"{args.proof} is {describe(data)}") from error
    trust = trust_of(args, origin.rsplit("/", 1)[-1])
    if data.startswith(CONSISTENCY_HEADER.encode()):
        old, new = ConsistencyProof.parse(data).verify(trust.keys, origin)
        show(
            f"the log of {origin} of size {new.size} extends its checkpoint of size {old.size}: both checkpoints "
            "and the proof between them verified offline"
        )
        return
    if args.entry is None:
        raise CommandError(f"{args.proof} is a tlog-proof: give the entry it proves (--entry FILE, its exact bytes)")
    proof = TlogProof.parse(data)
    checkpoint = proof.verify(args.entry.read_bytes(), trust.keys, origin)
    show(f"the entry is leaf {proof.index} of the log of {origin} of size {checkpoint.size}: verified offline")
