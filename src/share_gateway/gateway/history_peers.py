"""A subject's history across the federation: each region reads its own log on the subject's behalf.

Asking: the subject's node signs one request per region (subject, the subject's own certificate identity
as requester, the page wanted, nonce and time) and checks the page each region signs before any entry of
it is shown: the region's key, the request's digest, and that every entry is that region's and inside the
page asked for. Answering: the peer is the node its manifest pins; the request must verify under that
region's key, be fresh and unseen, name the same catalog, be on behalf of the subject itself (the
requester's identity is the subject) and pass this node's own policy for the self-only purpose. Both
ends log the exchange: the peer an ``inquiry_history`` event naming the request's digest, the asking
node its own event naming each region's page digest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.errors import InvalidInput, Refused
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.history import HISTORY_PAGE_TYPE, HistoryPage, require_self_only
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.policy import Denial, Policy, Principal
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.federation.history_request import PEER_HISTORY_TYPE, PeerHistoryRequest
from share_gateway.federation.messages import digest
from share_gateway.federation.peers import PeerError
from share_gateway.gateway.federation import DEADLINE_MARGIN, FederationDesk, RegionStatus, peer_failure
from share_gateway.gateway.history_cursor import Position
from share_gateway.gateway.runtime import node_principal

ReadPage = Callable[[Subject, str, Position, int, datetime, str, str], HistoryPage]
# The subject a requester's certificate identity is, and the requester kind a self-only purpose admits for it.
_ITSELF = {
    IdentityKind.PERSON: (SubjectKind.INDIVIDUAL, "individual"),
    IdentityKind.INSTITUTION: (SubjectKind.LEGAL_ENTITY, "legal_entity"),
}


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """How one region answered: its checked page (None if it failed, or had shown everything already)."""

    region: str
    status: str
    detail: str = ""
    page: HistoryPage | None = None
    # The digest of the region's signed page, for the asking node's log.
    digest: str = ""


class HistoryPeers:
    def __init__(self, federation: FederationDesk, read_page: ReadPage) -> None:
        self.federation = federation
        self.read_page = read_page
        self.policy = Policy(federation.catalog.catalog)

    def regions(self) -> tuple[str, ...]:
        return tuple(self.federation.manifest.manifest.peers_of(self.federation.runtime.region))

    # --- asking ---------------------------------------------------------------

    async def fan_out(
        self,
        requester: Principal,
        subject: Subject,
        purpose: str,
        positions: dict[str, Position],
        limit: int,
        deadline: float | None,
    ) -> list[PageOutcome]:
        """Ask every peer not done yet for its next page; no region holds the others past the deadline."""
        timeout = self.federation.peer_timeout
        remaining = timeout if deadline is None else deadline - time.monotonic() - DEADLINE_MARGIN
        seconds = max(0.01, min(timeout, remaining))
        return list(
            await asyncio.gather(
                *(
                    self._ask(region, requester, subject, purpose, positions[region], limit, seconds)
                    for region in self.regions()
                )
            )
        )

    async def _ask(
        self,
        region: str,
        requester: Principal,
        subject: Subject,
        purpose: str,
        position: Position,
        limit: int,
        seconds: float,
    ) -> PageOutcome:
        if position.done:
            return PageOutcome(region, RegionStatus.OK)
        federation = self.federation
        request = PeerHistoryRequest.new(
            origin=federation.runtime.region,
            requester_uri=requester.uri,
            subject=subject,
            purpose=purpose,
            before=position.before,
            below=position.below,
            limit=limit,
            catalog_digest=federation.catalog_digest,
            at=federation.runtime.clock(),
        )
        signed = Envelope.seal(federation.runtime.signing_key, PEER_HISTORY_TYPE, request.to_bytes())
        manifest = federation.manifest.manifest
        try:
            async with asyncio.timeout(seconds):
                answer = await federation.clients.history(manifest, region, signed, seconds)
        except TimeoutError:
            return PageOutcome(region, RegionStatus.TIMEOUT, f"no answer within {seconds:.2f} s")
        except PeerError as error:
            return PageOutcome(region, *peer_failure(error))
        try:
            page = checked_page(federation.key_id(region), manifest.keys, region, answer, request, signed)
        except (VerificationError, ValueError) as error:
            return PageOutcome(region, RegionStatus.INVALID, str(error)[:300])
        return PageOutcome(region, RegionStatus.OK, page=page, digest=digest(answer.payload))

    # --- answering --------------------------------------------------------------

    async def answer(self, region: str, envelope: Envelope) -> Envelope:
        """Verify a peer's request for a page of its subject's history; read, log and sign the page."""
        federation, runtime = self.federation, self.federation.runtime
        what = "history request"
        request = federation.opened(region, envelope, PEER_HISTORY_TYPE, PeerHistoryRequest.from_bytes, what)
        await federation.require_fresh(region, request.origin, request.catalog_digest, request.at, request.nonce, what)
        now = runtime.clock()
        requester = _on_behalf_of(request)
        require_self_only(self.policy, request.purpose)
        citation = self.policy.authorise(requester, request.purpose, request.subject, "", now)
        request_digest = digest(envelope.payload)
        position = Position(request.before, request.below)
        subject, limit = request.subject, request.limit
        page = await runtime.off_loop(
            self.read_page, subject, requester.uri, position, limit, now, request.purpose, request_digest
        )
        body = page.to_bytes()
        await runtime.event_log.append(
            runtime.event(
                EventKind.INQUIRY_HISTORY,
                requester,
                Outcome.ALLOWED,
                subject=request.subject,
                purpose=request.purpose,
                citations=(citation,),
                details={
                    "via": node_principal(region).uri,
                    "request_digest": request_digest,
                    "entries": str(len(page.entries)),
                    "page_digest": digest(body),
                },
            )
        )
        return Envelope.seal(runtime.signing_key, HISTORY_PAGE_TYPE, body)


def _on_behalf_of(request: PeerHistoryRequest) -> Principal:
    """The requester the asking node names, who must be the subject itself (its certificate identity)."""
    try:
        identity = Identity.from_uri(request.requester_uri)
    except InvalidInput as error:
        raise Refused(Denial.NOT_THE_SUBJECT, "the history request names no subject as its requester") from error
    kinds = _ITSELF.get(identity.kind)
    if kinds is None or Subject(kinds[0], identity.identifier) != request.subject:
        raise Refused(Denial.NOT_THE_SUBJECT, "a history is read only on behalf of its subject")
    return Principal(identity.identifier, identity.uri, kinds[1], itself=request.subject)


def checked_page(
    key_id: bytes,
    keys: KeyRing,
    region: str,
    answer: Envelope,
    request: PeerHistoryRequest,
    signed: Envelope,
) -> HistoryPage:
    """The page a region signed in answer to ``request``, or ``VerificationError``/``ValueError``."""
    if answer.key_id != key_id:
        raise VerificationError(f"the page is not signed by region {region}")
    page = answer.open(keys, HISTORY_PAGE_TYPE, HistoryPage.from_bytes)
    if page.region != region or page.request_digest != digest(signed.payload):
        raise VerificationError("the page answers another request")
    if len(page.entries) > request.limit or page.total < len(page.entries):
        raise ValueError("the page holds more entries than asked for, or than it counts")
    if request.below is not None and page.below != request.below:
        raise ValueError("the page was read against another log size than asked")
    bound = page.below if request.before is None else min(page.below, request.before)
    if any(e.node != region or e.leaf_index >= bound for e in page.entries):
        raise ValueError("an entry is not the region's own, or lies outside the page asked for")
    return page
