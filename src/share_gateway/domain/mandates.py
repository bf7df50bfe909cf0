"""An agent's mandate to apply for credit repair for a subject (2025 No. 22: an agent may apply with a mandate).

A mandate is a consent statement (``domain.consent``) the subject itself signed, naming the agent as the
requester and ``credit_repair`` among its purposes, within its validity. An attestation (signed by the agent
on evidence it keeps) is not a mandate: the subject's own signature is what lets another act for it.
"""

from __future__ import annotations

from share_gateway.domain.consent import Consent
from share_gateway.domain.errors import Refused
from share_gateway.domain.identifiers import Subject

MANDATE_PURPOSE = "credit_repair"
MANDATE_INVALID = "MANDATE_INVALID"


def mandated_subject(consent: Consent, agent_uri: str) -> Subject:
    """The subject the verified ``consent`` lets ``agent_uri`` apply for, or ``Refused(MANDATE_INVALID)``."""
    statement = consent.statement
    if statement.attested:
        raise Refused(MANDATE_INVALID, "a mandate is signed by the subject itself, not attested by the agent")
    if statement.requester != agent_uri:
        raise Refused(MANDATE_INVALID, "the mandate names another agent")
    if MANDATE_PURPOSE not in statement.purposes:
        raise Refused(MANDATE_INVALID, f"the mandate does not cover {MANDATE_PURPOSE}")
    return statement.subject
