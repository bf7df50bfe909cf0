"""C2SP signed notes (c2sp.org/signed-note): text, a blank line, then signature lines.

Used for the catalog (and, next, checkpoints and the federation manifest).
Each signature line is ``— <key name> <base64(4-byte key id || signature)>``;
signatures by unknown keys are ignored, which is what lets witnesses add
cosignatures.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from share_gateway.crypto.errors import BadSignature, UnknownKey, VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey

_DASH = "\u2014"


class MalformedNote(VerificationError):
    """The bytes are not a signed note."""


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH} {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> bytes:
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode()


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedNote("note text must end with a newline")


def sign_note(text: str, *keys: SigningKey) -> Note:
    _check_text(text)
    data = text.encode()
    return Note(text, tuple(NoteSignature(k.name, k.key_id, k.sign(data)) for k in keys))


def cosign(note: Note, key: SigningKey) -> Note:
    """Add one more plain signature to a note whose text it vouches for.

    Witnesses no longer cosign this way (see ``crypto/cosignature.py``); lines made so before still verify.
    """
    return Note(note.text, (*note.signatures, NoteSignature(key.name, key.key_id, key.sign(note.text.encode()))))


def parse_signature_line(line: str) -> NoteSignature:
    parts = line.rstrip("\n").split(" ")
    if len(parts) != 3 or parts[0] != _DASH:
        raise MalformedNote(f"bad signature line {line!r}")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except ValueError as error:
        raise MalformedNote(f"bad signature encoding in {line!r}") from error
    if len(blob) < 5:
        raise MalformedNote(f"signature too short in {line!r}")
    return NoteSignature(parts[1], blob[:4], blob[4:])


def verify_cosignature(text: str, line: str, key: VerifyingKey) -> NoteSignature:
    """One plain signature line by exactly ``key`` over ``text`` (the legacy form of a witness's answer)."""
    signature = parse_signature_line(line)
    if (signature.name, signature.key_id) != (key.name, key.key_id):
        raise UnknownKey(f"the cosignature is by {signature.name!r}, not {key.name!r}")
    key.verify(signature.signature, text.encode())
    return signature


def add_signature(data: bytes, signature: NoteSignature) -> bytes:
    """The note with one more signature line; unchanged if that key already signed it."""
    note = parse_note(data)
    if any(s.key_id == signature.key_id and s.name == signature.name for s in note.signatures):
        return data
    return Note(note.text, (*note.signatures, signature)).encode()


def parse_note(data: bytes) -> Note:
    try:
        message = data.decode()
    except UnicodeDecodeError as error:
        raise MalformedNote("note is not UTF-8") from error
    split = message.rfind("\n\n")
    if split < 0 or not message.endswith("\n"):
        raise MalformedNote("no signature block after a blank line")
    text, block = message[: split + 1], message[split + 2 :]
    signatures = [parse_signature_line(line) for line in block.splitlines()]
    if not signatures:
        raise MalformedNote("a note needs at least one signature")
    return Note(text, tuple(signatures))


def open_note(data: bytes, keys: KeyRing) -> tuple[str, tuple[VerifyingKey, ...]]:
    """Return the text and the trusted keys that signed it; raise unless at least one did.

    A signature naming a trusted key id that does not verify is an error, not
    something to skip: it means the text was changed.
    """
    note = parse_note(data)
    verified: list[VerifyingKey] = []
    for signature in note.signatures:
        if signature.key_id not in keys:
            continue
        key = keys[signature.key_id]
        if key.name != signature.name:
            continue
        key.verify(signature.signature, note.text.encode())
        verified.append(key)
    if not verified:
        if any(s.key_id in keys for s in note.signatures):
            raise BadSignature("note signed by a trusted key id under another name")
        raise UnknownKey("note is not signed by any trusted key")
    return note.text, tuple(verified)
