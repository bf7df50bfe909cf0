"""Errors of the domain, by failure domain. The API layer maps each to one gRPC status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request, named by its path (``fields.penalty_amount``)."""

    field: str
    description: str


@dataclass(frozen=True)
class Citation:
    """A legal basis that justified, or refused, part of an answer."""

    rule: str
    legal_basis: str


class DomainError(Exception):
    """Base of everything the domain refuses."""

    # True once a use case logged the refusal itself (as a denied inquiry, say): an edge that logs refusals
    # must not log it a second time.
    logged = False


class InvalidInput(DomainError):
    """The request itself is malformed or breaks the catalog: nothing is written."""

    def __init__(self, violations: Iterable[FieldViolation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in self.violations))

    @classmethod
    def one(cls, field: str, description: str) -> InvalidInput:
        return cls([FieldViolation(field, description)])


class Refused(DomainError):
    """The request is well formed but not lawful: a machine reason plus the rules that refused it."""

    def __init__(self, reason: str, message: str, citations: Iterable[Citation] = ()) -> None:
        self.reason = reason
        self.message = message
        self.citations = tuple(citations)
        super().__init__(message)


class Exhausted(DomainError):
    """A quota of the caller is spent: well formed and lawful, but not now; retry after ``retry_after`` seconds."""

    def __init__(self, reason: str, subject: str, message: str, retry_after: float) -> None:
        self.reason = reason
        # Whose quota, as google.rpc.QuotaFailure names it (``sgw://…/purpose``).
        self.subject = subject
        self.message = message
        self.retry_after = retry_after
        super().__init__(message)


class Unauthenticated(DomainError):
    """The caller presented no verified certificate carrying one identity."""


class NotFound(DomainError):
    """The named thing does not exist (or the caller may not know that it does)."""


class InvalidState(DomainError):
    """The thing exists but is not in a state that allows the operation.

    A ``reason`` (with ``metadata``) tells a program which state and what to do next.
    """

    def __init__(self, message: str, reason: str = "", metadata: Mapping[str, str] | None = None) -> None:
        self.reason = reason
        self.metadata = dict(metadata or {})
        super().__init__(message)


class ChangedMeanwhile(InvalidState):
    """Someone changed the thing between the caller's read and its write: read it again and retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "CHANGED_MEANWHILE")


class Unavailable(DomainError):
    """This node cannot go on serving the call (it is shutting down): the caller resumes at another replica."""

    def __init__(self, message: str, reason: str) -> None:
        self.reason = reason
        super().__init__(message)


class Conflict(DomainError):
    """The request collides with something that already exists (a reused request id)."""


class CatalogInvalid(DomainError):
    """A catalog document breaks the catalog format; each problem names its exact path."""

    def __init__(self, problems: Iterable[FieldViolation]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{p.field}: {p.description}" for p in self.problems))
