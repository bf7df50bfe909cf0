"""Verification failures. Verification raises one of these or returns nothing."""

from __future__ import annotations


class VerificationError(Exception):
    """Something signed or hashed did not verify."""


class UnknownKey(VerificationError):
    """The signature names a key this verifier does not trust."""


class BadSignature(VerificationError):
    """The signature does not match the bytes under the named key."""


class DigestMismatch(VerificationError):
    """A disclosed value does not hash to any digest the signed statement holds."""


class MalformedPayload(VerificationError):
    """The signed bytes verify but do not parse as the claimed payload."""
