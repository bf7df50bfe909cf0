"""The trust material on the public port, checked as an outsider would: with the authority's key and the C2SP text.

The checker here is written from c2sp.org/signed-note (verifier keys, key ids, signature lines),
c2sp.org/tlog-cosignature (witness keys: type 0x04) and c2sp.org/tlog-checkpoint (origin, size, root), with
``hashlib`` and ``cryptography`` only: none of the project's verifying code takes part.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import SigningKey
from share_gateway.devkit import Layout, create_federation
from share_gateway.node import Node, start_node
from share_gateway.rotation import rotate_authority
from share_gateway.v1 import (
    compliance_pb2,
    compliance_pb2_grpc,
    inquiry_pb2_grpc,
    registry_pb2_grpc,
    trust_pb2,
    trust_pb2_grpc,
)
from tests.conftest import ChannelFactory
from tests.federation import REGIONS, Nodes
from tests.federation import channel as channel_to
from tests.support import CALLERS, REGION, ROLES, inquiry, penalty_request
from tests.waiting import eventually

DASH = "\u2014"


# --- an outsider's checker, from the specifications' text ----------------------------------------------------


def parse_vkey(vkey: str, signature_type: int) -> tuple[str, bytes, Ed25519PublicKey]:
    """signed-note: ``<name>+<hex key id>+<base64(type || key)>``; the id is SHA-256(name \\n type key)[:4]."""
    name, key_hash, material = vkey.split("+", 2)  # neither a name nor the id holds "+"; base64 may
    blob = base64.b64decode(material, validate=True)
    assert blob[0] == signature_type
    assert len(blob) == 33
    assert bytes.fromhex(key_hash) == hashlib.sha256(name.encode() + b"\n" + blob).digest()[:4]
    return name, bytes.fromhex(key_hash), Ed25519PublicKey.from_public_bytes(blob[1:])


def spec_vkey(name: str, raw: bytes) -> str:
    """signed-note: an Ed25519 note key (type 0x01) as a verifier key."""
    blob = b"\x01" + raw
    key_hash = hashlib.sha256(name.encode() + b"\n" + blob).digest()[:4].hex()
    return f"{name}+{key_hash}+{base64.b64encode(blob).decode()}"


def vkey_of(name: str, pem: bytes) -> str:
    public = serialization.load_pem_public_key(pem)
    assert isinstance(public, Ed25519PublicKey)
    return spec_vkey(name, public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def open_signed_note(note: bytes, vkey: str) -> str:
    """The text of a note with a valid signature line by the key ``vkey``; fails otherwise."""
    name, key_id, public = parse_vkey(vkey, 0x01)
    message = note.decode()
    split = message.rindex("\n\n")
    text, lines = message[: split + 1], message[split + 2 :].splitlines()
    for line in lines:
        dash, signer, signature = line.split(" ")
        assert dash == DASH
        blob = base64.b64decode(signature)
        if signer == name and blob[:4] == key_id:
            public.verify(blob[4:], text.encode())  # raises InvalidSignature
            return text
    raise AssertionError(f"no signature by {vkey} in the note")


# --- the node ------------------------------------------------------------------------------------------------


def public_channel(node: Node, federation: Layout) -> grpc.aio.Channel:
    """Server-authenticated TLS, no client certificate."""
    assert node.public_port is not None
    return open_channel(f"localhost:{node.public_port}", credentials(None, None, federation.ca_certificate))


async def test_the_public_port_serves_trust_material_an_outsider_verifies_with_the_authority_key(
    node: Node, federation: Layout, connect: ChannelFactory
) -> None:
    authority = vkey_of("share-gateway-authority", federation.authority_public_key.read_bytes())
    async with public_channel(node, federation) as channel:
        served = await trust_pb2_grpc.TrustServiceStub(channel).GetTrustMaterial(
            trust_pb2.GetTrustMaterialRequest(), timeout=5
        )
    assert list(served.authority_keys) == [authority]
    assert served.region == REGION

    # The three documents are authority-signed notes, as installed at the node.
    catalog_text = open_signed_note(served.signed_catalog, authority)
    assert served.signed_catalog == node.gateway.catalog_in_force.document
    open_signed_note(served.signed_revocation_list, authority)
    manifest = json.loads(open_signed_note(served.signed_manifest, authority))
    assert manifest["v"] == 4
    assert manifest["catalog_digest"] == hashlib.sha256(catalog_text.encode()).hexdigest()

    # The keys: taken from the verified manifest; the list beside it says the same.
    entry = manifest["nodes"][REGION]
    log_vkey = entry["signing_keys"][-1]["vkey"]
    witness_vkey = entry["witness_keys"][-1]["vkey"]
    assert log_vkey == vkey_of(f"share-gateway/node/{REGION}", federation.node_public_key(REGION).read_bytes())
    assert base64.b64decode(entry["signing_keys"][-1]["key"]) == base64.b64decode(log_vkey.split("+", 2)[2])[1:]
    name, _, _ = parse_vkey(witness_vkey, 0x04)  # tlog-cosignature's Ed25519 type
    assert name == f"share-gateway/witness/{REGION}"
    assert {(k.region, k.role, k.verifier_key) for k in served.keys} == {
        (REGION, "log", log_vkey),
        (REGION, "witness", witness_vkey),
    }

    # A checkpoint the node publishes verifies with that key alone, by the signed-note rules.
    await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(
        inquiry("loan_underwriting", consent="A"), timeout=5
    )
    await node.gateway.sequencer.step(force=True)
    head = await compliance_pb2_grpc.ComplianceServiceStub(connect("officer")).GetCheckpoint(
        compliance_pb2.GetCheckpointRequest(), timeout=5
    )
    origin, size, root = open_signed_note(head.checkpoint, log_vkey).splitlines()[:3]  # tlog-checkpoint
    assert origin == f"share-gateway/node/{REGION}"
    assert int(size) == head.size >= 1
    assert len(base64.b64decode(root, validate=True)) == 32


async def test_the_trust_material_needs_no_client_certificate_but_other_services_do(
    node: Node, federation: Layout
) -> None:
    async with public_channel(node, federation) as channel:
        await trust_pb2_grpc.TrustServiceStub(channel).GetTrustMaterial(trust_pb2.GetTrustMaterialRequest(), timeout=5)
        stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        services = {s.name async for r in stream for s in r.list_services_response.service}
        assert "share_gateway.v1.TrustService" in services, "grpcurl finds it by reflection"
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await compliance_pb2_grpc.ComplianceServiceStub(channel).GetCheckpoint(
                compliance_pb2.GetCheckpointRequest(), timeout=5
            )
    assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def run_cli(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "share_gateway.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


async def test_federation_fetch_verifies_with_the_pinned_key_and_refuses_another(
    node: Node, federation: Layout, tmp_path: Path
) -> None:
    address = f"localhost:{node.public_port}"
    ca = str(federation.ca_certificate)
    status, output = await run_cli(
        "federation", "fetch", "--node", address, "--authority", str(federation.authority_public_key),
        "--ca", ca, "--out", str(tmp_path / "kept"),
    )  # fmt: skip
    assert status == 0, output
    assert federation.node_verifying_key(REGION).verifier_key in output
    assert (tmp_path / "kept" / "manifest.signed").read_bytes() == node.gateway.manifest_in_force().document  # type: ignore[union-attr]

    stranger = tmp_path / "stranger.pub"
    stranger.write_bytes(SigningKey.generate("share-gateway-authority").verifying_key.to_pem())
    status, output = await run_cli(
        "federation", "fetch", "--node", address, "--authority", str(stranger), "--ca", ca
    )  # fmt: skip
    assert status != 0
    assert "not signed by any trusted key" in output


def cosigned_by(note: bytes, witness_vkey: str) -> int | None:
    """tlog-cosignature: the timestamp of a valid ``cosignature/v1`` line by ``witness_vkey``, or None if none."""
    name, key_id, public = parse_vkey(witness_vkey, 0x04)
    message = note.decode()
    split = message.rindex("\n\n")
    text = message[: split + 1]
    for line in message[split + 2 :].splitlines():
        _, signer, signature = line.split(" ")
        blob = base64.b64decode(signature)
        if signer == name and blob[:4] == key_id:
            assert len(blob) == 4 + 8 + 64
            timestamp = int.from_bytes(blob[4:12], "big")
            public.verify(blob[12:], f"cosignature/v1\ntime {timestamp}\n{text}".encode())
            return timestamp
    return None


async def test_a_checkpoints_cosignatures_verify_with_the_witness_keys_a_peer_serves(
    layout: Layout, nodes: Nodes
) -> None:
    origin, peer = nodes["110000"], nodes["440000"]
    authority = vkey_of("share-gateway-authority", layout.authority_public_key.read_bytes())
    async with public_channel(peer, layout) as channel:  # another region serves the federation's keys
        served = await trust_pb2_grpc.TrustServiceStub(channel).GetTrustMaterial(
            trust_pb2.GetTrustMaterialRequest(), timeout=5
        )
    manifest = json.loads(open_signed_note(served.signed_manifest, authority))
    log_vkey = manifest["nodes"]["110000"]["signing_keys"][-1]["vkey"]
    witnesses = [manifest["nodes"][r]["witness_keys"][-1]["vkey"] for r in REGIONS if r != "110000"]

    async with channel_to(layout, origin, "regulator") as agency:
        await registry_pb2_grpc.RegistryServiceStub(agency).SubmitRecord(penalty_request("p-trust"), timeout=5)

    def cosigned_by_every_peer() -> bool:
        latest = origin.gateway.log.latest_checkpoint()
        return latest is not None and all(cosigned_by(latest.note, w) is not None for w in witnesses)

    await eventually(cosigned_by_every_peer)
    latest = origin.gateway.log.latest_checkpoint()
    assert latest is not None
    open_signed_note(latest.note, log_vkey)


async def test_after_an_authority_rotation_the_first_pinned_key_alone_still_verifies(tmp_path: Path) -> None:
    """The documents are signed by the new key; the node serves the rotations that lead there from the old."""
    clients = {name: c[0] for name, c in CALLERS.items()}
    layout = create_federation(tmp_path / "fed", [REGION], clients, datetime.now(UTC), roles=ROLES)
    first = layout.authority_public_key.read_bytes()
    rotate_authority(layout, datetime.now(UTC))
    config = NodeConfig.load(layout.node_config(REGION))
    started = await start_node(dataclasses.replace(config, database=f"sqlite:///{tmp_path / 'node.db'}"))
    try:
        async with public_channel(started, layout) as channel:
            served = await trust_pb2_grpc.TrustServiceStub(channel).GetTrustMaterial(
                trust_pb2.GetTrustMaterialRequest(), timeout=5
            )
        assert len(served.authority_rotations) == 1
        # By hand: the pinned key signed the rotation, which names the key that signs the manifest now.
        pinned = vkey_of("share-gateway-authority", first)
        rotation = json.loads(open_signed_note(served.authority_rotations[0], pinned))
        new_raw = base64.b64decode(rotation["new_key"])
        new = spec_vkey("share-gateway-authority", new_raw)
        open_signed_note(served.authority_rotations[0], new)  # the new key signed it too
        assert json.loads(open_signed_note(served.signed_manifest, new))["v"] == 4
        with pytest.raises(AssertionError, match="no signature"):
            open_signed_note(served.signed_manifest, pinned)  # the old key signs nothing now

        # The CLI, given only the first key (no rotations beside it), follows the served ones.
        alone = tmp_path / "pinned" / "authority.pub"
        alone.parent.mkdir()
        alone.write_bytes(first)
        status, output = await run_cli(
            "federation", "fetch", "--node", f"localhost:{started.public_port}", "--authority", str(alone),
            "--ca", str(layout.ca_certificate),
        )  # fmt: skip
        assert status == 0, output
        assert "rotated 1 times" in output
        assert new in output
    finally:
        await started.stop(grace=0)
