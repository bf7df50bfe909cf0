"""Ed25519 keys with C2SP key ids, and C2SP signed notes.

Official vectors: golang.org/x/mod ``sumdb/note/note_test.go`` (TestNewVerifier,
TestSign, TestOpen), as stored at commit 02c991387e35f9e4c0a9b7ce137717055f8d716d.
The signed text there is the two lines of the Peter Neumann quote only; the
attribution line is not part of it.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from share_gateway.crypto.cosignature import CosignerKey
from share_gateway.crypto.errors import BadSignature, UnknownKey, VerificationError
from share_gateway.crypto.keys import KeyRing, MalformedVerifierKey, SigningKey, VerifyingKey, key_id
from share_gateway.crypto.note import (
    MalformedNote,
    Note,
    add_signature,
    cosign,
    open_note,
    parse_note,
    sign_note,
    verify_cosignature,
)

# --- vectors from golang.org/x/mod/sumdb/note/note_test.go ---------------------------------------

PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
QUOTE = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"


def _verifier(vkey: str) -> tuple[VerifyingKey, bytes]:
    """A verifier key string ``name+hex id+base64(0x01 || key)`` as a key and its stated id."""
    name, kid, encoded = vkey.split("+", 2)
    blob = base64.b64decode(encoded, validate=True)
    assert blob[0] == 0x01, "algorithm byte must be Ed25519"
    assert len(blob) == 33
    return VerifyingKey(name, Ed25519PublicKey.from_public_bytes(blob[1:])), bytes.fromhex(kid)


def _signer(skey: str) -> tuple[SigningKey, bytes]:
    """A signer key string ``PRIVATE+KEY+name+hex id+base64(0x01 || seed)``."""
    private, key, name, kid, encoded = skey.split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    blob = base64.b64decode(encoded, validate=True)
    assert blob[0] == 0x01
    assert len(blob) == 33
    return SigningKey(name, Ed25519PrivateKey.from_private_bytes(blob[1:])), bytes.fromhex(kid)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- key ids -------------------------------------------------------------------------------------


def test_key_id_matches_official_verifier_key() -> None:
    peter, stated = _verifier(PETER_VERIFIER)
    assert stated == bytes.fromhex("c74f20a3")
    assert peter.key_id == stated
    assert key_id("PeterNeumann", peter.public) == stated


def test_key_id_of_second_official_key() -> None:
    enoch, stated = _verifier(ENOCH_VERIFIER)
    assert enoch.key_id == stated == bytes.fromhex("af0cfe78")


def test_official_signer_matches_its_verifier() -> None:
    signer, stated = _signer(PETER_SIGNER)
    peter, _ = _verifier(PETER_VERIFIER)
    assert signer.key_id == stated == peter.key_id
    assert signer.verifying_key.raw == peter.raw


def test_key_id_is_sha256_of_name_newline_type_and_key() -> None:
    key = SigningKey.generate("witness.example")
    raw = _raw(key.private.public_key())
    expected = hashlib.sha256(b"witness.example" + b"\x0a" + b"\x01" + raw).digest()[:4]
    assert key.key_id == expected
    assert key.verifying_key.key_id == expected
    assert len(expected) == 4


def test_key_id_depends_on_the_name() -> None:
    private = Ed25519PrivateKey.generate()
    assert SigningKey("one", private).key_id != SigningKey("two", private).key_id


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname", "new\nline"])
def test_key_names_with_spaces_or_plus_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        SigningKey.generate(name)
    with pytest.raises(ValueError):
        VerifyingKey(name, Ed25519PrivateKey.generate().public_key())


def test_pem_round_trip_keeps_key_and_id() -> None:
    key = SigningKey.generate("origin-110000")
    again = SigningKey.from_pem(key.name, key.to_pem())
    assert again.key_id == key.key_id
    public = VerifyingKey.from_pem(key.name, key.verifying_key.to_pem())
    assert public.raw == key.verifying_key.raw
    public.verify(again.sign(b"message"), b"message")


def test_verify_raises_bad_signature_on_changed_message() -> None:
    key = SigningKey.generate("k")
    signature = key.sign(b"message")
    key.verifying_key.verify(signature, b"message")
    with pytest.raises(BadSignature):
        key.verifying_key.verify(signature, b"messagE")


def test_key_ring_lookup_and_unknown_key() -> None:
    known, unknown = SigningKey.generate("known"), SigningKey.generate("unknown")
    ring = KeyRing([known.verifying_key])
    assert len(ring) == 1
    assert list(ring) == [known.key_id]
    assert ring[known.key_id].raw == known.verifying_key.raw
    with pytest.raises(UnknownKey):
        ring[unknown.key_id]


def test_key_ring_membership_test_answers_false_for_unknown_ids() -> None:
    """``in`` and ``get`` are Mapping operations: they must not raise for an unknown id."""
    known, unknown = SigningKey.generate("known"), SigningKey.generate("unknown")
    ring = KeyRing([known.verifying_key])
    assert known.key_id in ring
    assert unknown.key_id not in ring
    assert ring.get(unknown.key_id) is None


# --- official note vectors -----------------------------------------------------------------------


def test_official_note_opens() -> None:
    peter, _ = _verifier(PETER_VERIFIER)
    text, signers = open_note((QUOTE + "\n" + PETER_SIG).encode(), KeyRing([peter]))
    assert text == QUOTE
    assert [k.key_id for k in signers] == [peter.key_id]


def test_signing_reproduces_official_note() -> None:
    signer, _ = _signer(PETER_SIGNER)
    assert sign_note(QUOTE, signer).encode() == (QUOTE + "\n" + PETER_SIG).encode()


def test_official_note_with_an_unknown_cosigner_opens() -> None:
    """TestOpen "one signature verified, one not": Enoch's signature is ignored."""
    peter, _ = _verifier(PETER_VERIFIER)
    text, signers = open_note((QUOTE + "\n" + PETER_SIG + ENOCH_SIG).encode(), KeyRing([peter]))
    assert text == QUOTE
    assert [k.name for k in signers] == ["PeterNeumann"]


def test_official_note_with_both_signers_trusted() -> None:
    peter, _ = _verifier(PETER_VERIFIER)
    enoch, _ = _verifier(ENOCH_VERIFIER)
    _, signers = open_note((QUOTE + "\n" + PETER_SIG + ENOCH_SIG).encode(), KeyRing([peter, enoch]))
    assert [k.name for k in signers] == ["PeterNeumann", "EnochRoot"]


def test_official_note_with_no_trusted_signer_is_unknown_key() -> None:
    stranger = SigningKey.generate("stranger")
    with pytest.raises(UnknownKey):
        open_note((QUOTE + "\n" + PETER_SIG + ENOCH_SIG).encode(), KeyRing([stranger.verifying_key]))


def test_official_note_with_corrupted_signature_is_bad_signature() -> None:
    """TestOpen "Invalid signature": four characters inserted into Peter's signature."""
    peter, _ = _verifier(PETER_VERIFIER)
    corrupted = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(BadSignature):
        open_note((QUOTE + "\n" + corrupted).encode(), KeyRing([peter]))


@pytest.mark.parametrize(
    "message",
    [
        QUOTE,  # no blank line, no signatures
        QUOTE + "\n",  # blank line but no signature
        QUOTE + "\n" + PETER_SIG[:-1],  # no trailing newline
        b"\xff" + (QUOTE + "\n" + PETER_SIG).encode(),  # not UTF-8
        QUOTE
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        QUOTE + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
    ids=["no-blank-line", "no-signature", "no-trailing-newline", "not-utf8", "bad-name", "unexpected-line"],
)
def test_official_malformed_notes(message: str | bytes) -> None:
    peter, _ = _verifier(PETER_VERIFIER)
    data = message if isinstance(message, bytes) else message.encode()
    with pytest.raises(MalformedNote):
        open_note(data, KeyRing([peter]))


# --- notes with generated keys -------------------------------------------------------------------


@pytest.fixture
def author() -> SigningKey:
    return SigningKey.generate("author.example")


@pytest.fixture
def witness() -> SigningKey:
    return SigningKey.generate("witness.example")


def test_sign_open_round_trip(author: SigningKey) -> None:
    text = "origin\n42\nroot\n"
    data = sign_note(text, author).encode()
    opened, signers = open_note(data, KeyRing([author.verifying_key]))
    assert opened == text
    assert [k.key_id for k in signers] == [author.key_id]
    parsed = parse_note(data)
    assert parsed.text == text
    assert [(s.name, s.key_id) for s in parsed.signatures] == [(author.name, author.key_id)]
    assert Note(parsed.text, parsed.signatures).encode() == data


def test_signature_line_format(author: SigningKey) -> None:
    data = sign_note("a\n", author).encode()
    text, _, line = data.decode().partition("\n\n")
    assert text == "a"
    dash, name, blob = line.rstrip("\n").split(" ")
    assert dash == "\u2014"
    assert name == author.name
    raw = base64.b64decode(blob)
    assert raw[:4] == author.key_id
    author.verifying_key.verify(raw[4:], b"a\n")


def test_text_must_end_with_newline(author: SigningKey) -> None:
    with pytest.raises(MalformedNote):
        sign_note("no newline", author)


@pytest.mark.parametrize("position", [0, 5, 10])
def test_changed_text_byte_is_bad_signature(author: SigningKey, position: int) -> None:
    data = bytearray(sign_note("checkpoint 7\nabc\n", author).encode())
    data[position] ^= 0x01
    with pytest.raises(BadSignature):
        open_note(bytes(data), KeyRing([author.verifying_key]))


def test_unknown_signer_first_is_ignored(author: SigningKey, witness: SigningKey) -> None:
    data = sign_note("text\n", witness, author).encode()
    text, signers = open_note(data, KeyRing([author.verifying_key]))
    assert text == "text\n"
    assert [k.name for k in signers] == [author.name]


def test_unknown_signer_last_is_ignored(author: SigningKey, witness: SigningKey) -> None:
    data = sign_note("text\n", author, witness).encode()
    _, signers = open_note(data, KeyRing([author.verifying_key]))
    assert [k.name for k in signers] == [author.name]


def test_only_unknown_signers_is_unknown_key(author: SigningKey, witness: SigningKey) -> None:
    data = sign_note("text\n", witness).encode()
    with pytest.raises(UnknownKey):
        open_note(data, KeyRing([author.verifying_key]))
    with pytest.raises(UnknownKey):
        open_note(data, KeyRing())


def test_cosign_adds_a_second_signature_and_both_verify(author: SigningKey, witness: SigningKey) -> None:
    note = sign_note("checkpoint\n", author)
    cosigned = cosign(note, witness)
    assert cosigned.text == note.text
    assert len(cosigned.signatures) == 2
    assert cosigned.signatures[0] == note.signatures[0]
    data = cosigned.encode()
    _, signers = open_note(data, KeyRing([author.verifying_key, witness.verifying_key]))
    assert {k.key_id for k in signers} == {author.key_id, witness.key_id}
    # Each signature verifies alone too.
    assert open_note(data, KeyRing([witness.verifying_key]))[1][0].key_id == witness.key_id
    assert open_note(data, KeyRing([author.verifying_key]))[1][0].key_id == author.key_id


def test_trusted_key_id_under_another_name_is_refused(author: SigningKey) -> None:
    data = sign_note("text\n", author).encode().replace(author.name.encode(), b"impostor")
    with pytest.raises(BadSignature):
        open_note(data, KeyRing([author.verifying_key]))


def test_malformed_no_blank_line(author: SigningKey) -> None:
    data = sign_note("text\n", author).encode().replace(b"\n\n", b"\n")
    with pytest.raises(MalformedNote):
        parse_note(data)


def test_malformed_bad_base64(author: SigningKey) -> None:
    line = sign_note("text\n", author).signatures[0].line()
    with pytest.raises(MalformedNote):
        parse_note(b"text\n\n" + line.replace(line.split(" ")[2][:4], "!!!!").encode())


def test_malformed_short_signature(author: SigningKey) -> None:
    short = base64.b64encode(author.key_id).decode()  # the key id and no signature
    with pytest.raises(MalformedNote):
        parse_note(f"text\n\n\u2014 {author.name} {short}\n".encode())


def test_malformed_no_trailing_newline(author: SigningKey) -> None:
    data = sign_note("text\n", author).encode()
    with pytest.raises(MalformedNote):
        parse_note(data.rstrip(b"\n"))


def test_malformed_note_is_a_verification_error() -> None:
    assert issubclass(MalformedNote, VerificationError)


def test_a_witness_cosignature_line_verifies_and_is_added_once(author: SigningKey, witness: SigningKey) -> None:
    note = sign_note("checkpoint\n7\n", author)
    line = cosign(note, witness).signatures[-1].line()
    signature = verify_cosignature(note.text, line, witness.verifying_key)
    with_witness = add_signature(note.encode(), signature)
    assert add_signature(with_witness, signature) == with_witness
    _, signers = open_note(with_witness, KeyRing([author.verifying_key, witness.verifying_key]))
    assert [k.name for k in signers] == [author.name, witness.name]
    # Over another text, or by another key than the one expected, it is refused.
    with pytest.raises(BadSignature):
        verify_cosignature("checkpoint\n8\n", line, witness.verifying_key)
    with pytest.raises(UnknownKey):
        verify_cosignature(note.text, line, author.verifying_key)
    with pytest.raises(MalformedNote):
        verify_cosignature(note.text, line.replace(" ", "  ", 1), witness.verifying_key)


# --- verifier keys (c2sp.org/signed-note "vkey"; Ed25519 witness keys per c2sp.org/tlog-cosignature) ----------


def test_verifier_key_reproduces_the_official_vector() -> None:
    signer, _ = _signer(PETER_SIGNER)
    assert signer.verifying_key.verifier_key == PETER_VERIFIER
    enoch, _ = _verifier(ENOCH_VERIFIER)
    assert enoch.verifier_key == ENOCH_VERIFIER
    assert VerifyingKey.from_verifier_key(PETER_VERIFIER).raw == signer.verifying_key.raw


def test_witness_verifier_key_uses_type_0x04_computed_from_the_spec_text() -> None:
    """tlog-cosignature: key id SHA-256(name || "\\n" || 0x04 || key)[:4]; the vkey carries 0x04 || key."""
    key = SigningKey.generate("sgw-witness-110000")
    raw = _raw(key.private.public_key())
    expected_id = hashlib.sha256(b"sgw-witness-110000\n\x04" + raw).digest()[:4].hex()
    material = base64.b64encode(b"\x04" + raw).decode()
    expected = f"sgw-witness-110000+{expected_id}+{material}"
    cosigner = CosignerKey.of(key.verifying_key)
    assert cosigner.verifier_key == expected
    assert cosigner.verifier_key != key.verifying_key.verifier_key
    assert CosignerKey.from_verifier_key(expected) == cosigner


def test_a_verifier_key_whose_base64_holds_a_plus_round_trips() -> None:
    """Only the first two "+" separate: the key material's base64 may hold more."""
    seeds = (bytes([n]) * 32 for n in range(256))
    keys = (SigningKey("k", Ed25519PrivateKey.from_private_bytes(seed)).verifying_key for seed in seeds)
    key = next(k for k in keys if "+" in k.verifier_key.split("+", 2)[2])
    assert VerifyingKey.from_verifier_key(key.verifier_key) == key
    assert CosignerKey.from_verifier_key(CosignerKey.of(key).verifier_key) == CosignerKey.of(key)


@pytest.mark.parametrize(
    "mangled",
    [
        PETER_VERIFIER.replace("c74f20a3", "c74f20a4"),  # id does not match
        PETER_VERIFIER.replace("PeterNeumann", "PeterNeuman"),  # name does not match the id
        PETER_VERIFIER.replace("+ARpc", "+AhpC"),  # another signature type
        PETER_VERIFIER + "+x",  # not base64 once the third part runs to the end
        PETER_VERIFIER[:-4],
        "PeterNeumann+c74f20a3",
    ],
)
def test_mangled_verifier_keys_are_refused(mangled: str) -> None:
    with pytest.raises(MalformedVerifierKey):
        VerifyingKey.from_verifier_key(mangled)


def test_a_note_verifier_key_is_not_a_cosigner_key() -> None:
    with pytest.raises(MalformedVerifierKey):
        CosignerKey.from_verifier_key(PETER_VERIFIER)
