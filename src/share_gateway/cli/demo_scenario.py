"""The guided scenario of ``share-gateway demo``, step by step over gRPC against three running nodes.

An agency records a penalty on a legally effective document; a bank asks for loan underwriting with the
subject's consent and receives only the fields that purpose needs, each verified against the origin's
signature; a utility asks the same node and sees less; a request without consent is refused with the rule
that refused it; a person reads their own records and who looked at them; an officer proves an inquiry is in
the log; a court approves a repair and every region stops disclosing the record. Every heading, explanation
and label is said in the language asked for (``messages.say``).
"""

from __future__ import annotations

import asyncio
import hashlib
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc

from share_gateway.api.convert import draft_to_wire, subject_to_wire
from share_gateway.cli.console import line, show, table
from share_gateway.cli.demo_regions import RegionNode, until
from share_gateway.cli.messages import say
from share_gateway.cli.repair_views import repair_view
from share_gateway.cli.views import answer_view, history_view, record_view, revocations_view, rpc_error_view
from share_gateway.client import credentials, open_channel
from share_gateway.crypto.consent import sign_consent
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.catalog_text import Language
from share_gateway.domain.consent import ConsentStatement
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.key_names import node_key_name
from share_gateway.domain.policy import GrantRole
from share_gateway.domain.principals import Identity, Role
from share_gateway.domain.records import RecordStatus
from share_gateway.ledger.checkpoint import TlogProof
from share_gateway.synthetic import Population, SyntheticCompany, SyntheticPerson
from share_gateway.v1 import (
    compliance_pb2,
    compliance_pb2_grpc,
    inquiry_pb2,
    inquiry_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
)

REGIONS = ("110000", "310000", "440000")


def region_name(region: str, language: Language) -> str:
    """Beijing, 北京: a demo region's name in ``language``."""
    return say(f"region_{region}", language)


@dataclass(frozen=True)
class Member:
    """One institution of the demo: its certificate identity, kind and what it may do on every node."""

    name: str
    identity: Identity
    kind: str
    grants: tuple[tuple[GrantRole, str], ...]
    roles: tuple[Role, ...] = ()


def heading(text: str) -> None:
    title = line(f"== {text}")
    title.stylize("bold")
    show("", title)


def explain(text: str) -> None:
    show(textwrap.fill(text, width=100))


@dataclass
class Demo:
    layout: Layout
    nodes: dict[str, RegionNode]
    members: dict[str, Member]

    def channel(self, member: str, region: str) -> grpc.aio.Channel:
        files = self.layout.client(member)
        return open_channel(f"localhost:{self.nodes[region].port}", credentials(files.certificate, files.key, files.ca))

    def consent(self, signer: str, subject: Subject, requester: str, purpose: str) -> inquiry_pb2.Consent:
        """The consent ``signer`` (the subject itself, holding a certificate) signs for ``requester`` and ``purpose``,
        valid for a year, over the digest of a written authorisation form."""
        now = datetime.now(UTC).replace(microsecond=0)
        form = f"{subject.identifier} authorises {requester} for {purpose} on {now.date()}".encode()
        statement = ConsentStatement(
            subject, requester, (purpose,), now, now + timedelta(days=365), hashlib.sha256(form).hexdigest()
        )
        files = self.layout.client(signer)
        signed = sign_consent(statement, files.key.read_bytes(), files.certificate.read_bytes())
        return inquiry_pb2.Consent(
            statement=signed.statement, signature=signed.signature, certificate=signed.certificate
        )

    @property
    def keys(self) -> KeyRing:
        return KeyRing(self.layout.node_verifying_key(region) for region in self.nodes)


async def play(
    demo: Demo,
    company: SyntheticCompany,
    person: SyntheticPerson,
    population: Population,
    language: Language = Language.EN,
) -> None:
    t = language
    subject = subject_to_wire(Subject(company.kind, company.identifier))
    bank_uri = demo.members["bank"].identity.uri

    heading(say("step_1", t))
    penalty = population.record_draft(company, "administrative_penalty", "110000")
    loan = population.record_draft(company, "loan_default", "110000")
    async with demo.channel("agency-110000", "110000") as channel:
        registry = registry_pb2_grpc.RegistryServiceStub(channel)
        for index, draft in enumerate((penalty, loan)):
            request = draft_to_wire(f"demo-{index}", draft)
            record = (await registry.SubmitRecord(request, timeout=10)).record
            if index == 0:
                show(record_view(record, language=t))
    for region, record_type in (("310000", "tax_arrears"), ("440000", "credit_commitment")):
        async with demo.channel(f"agency-{region}", region) as channel:
            draft = population.record_draft(company, record_type, region)
            await registry_pb2_grpc.RegistryServiceStub(channel).SubmitRecord(
                draft_to_wire(f"demo-{region}", draft), timeout=10
            )
    explain(say("explain_1", t, company=company.name))

    heading(say("step_1b", t))
    async with demo.channel("court-440000", "440000") as channel:
        debtor = population.record_draft(company, "dishonest_judgment_debtor", "440000")
        record = (
            await registry_pb2_grpc.RegistryServiceStub(channel).SubmitRecord(
                draft_to_wire("demo-debtor", debtor), timeout=10
            )
        ).record
    debtor_id, debtor_origin = record.record_id, record.origin_region
    arrived = await _regions_where(demo, lambda node: _status(node, debtor_origin, debtor_id) is not None)
    show(
        table(
            [say("region", t), say("holds_court_record", t)],
            [(region, say("yes" if region in arrived else "queued_outbox", t)) for region in demo.nodes],
        )
    )
    explain(say("explain_1b", t))

    async with demo.channel("bank", "110000") as channel:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(channel)
        heading(say("step_2", t))
        consent = demo.consent("company", Subject(company.kind, company.identifier), bank_uri, "loan_underwriting")
        answer = await inquiry.Inquire(
            inquiry_pb2.InquireRequest(
                subject=subject,
                purpose="loan_underwriting",
                consent=consent,
                scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION,
            ),
            timeout=10,
        )
        show(answer_view(answer, demo.keys, t))
        bank_inquiry = answer.inquiry_id
        explain(say("explain_2", t))

        heading(say("step_3", t))
        for reference in ("", "AUTH-2026-118"):
            try:
                await inquiry.Inquire(
                    inquiry_pb2.InquireRequest(
                        subject=subject, purpose="loan_underwriting", consent_reference=reference
                    ),
                    timeout=10,
                )
            except grpc.aio.AioRpcError as error:
                show(rpc_error_view(error, language=t))

    async with demo.channel("utility", "110000") as channel:
        heading(say("step_4", t))
        answer = await inquiry_pb2_grpc.InquiryServiceStub(channel).Inquire(
            inquiry_pb2.InquireRequest(subject=subject, purpose="utility_connection"), timeout=10
        )
        show(answer_view(answer, demo.keys, t))
        explain(say("explain_4", t))

    myself = subject_to_wire(Subject(person.kind, person.identifier))
    async with demo.channel("bank", "110000") as channel:
        looked = await inquiry_pb2_grpc.InquiryServiceStub(channel).Inquire(
            inquiry_pb2.InquireRequest(
                subject=myself,
                purpose="loan_underwriting",
                consent=demo.consent("person", Subject(person.kind, person.identifier), bank_uri, "loan_underwriting"),
            ),
            timeout=10,
        )
    # History reads integrated leaves: Beijing's sequencer integrates within 0.2 s.
    await until(lambda: demo.nodes["110000"].leaf_of(looked.inquiry_id) is not None)
    async with demo.channel("person", "110000") as channel:
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)
        heading(say("step_5", t, person=person.name))
        answer = await stub.Inquire(inquiry_pb2.InquireRequest(subject=myself, purpose="self_inquiry"), timeout=10)
        show(answer_view(answer, demo.keys, t))
        heading(say("step_6", t, person=person.name))
        history = await stub.GetInquiryHistory(
            inquiry_pb2.GetInquiryHistoryRequest(subject=myself, purpose="self_inquiry"), timeout=10
        )
        show(history_view(history, person.name, t))

    heading(say("step_7", t))
    proof, witnesses = await _witnessed_proof(demo, bank_inquiry)
    origin = node_key_name("110000")
    checkpoint = TlogProof.parse(proof.tlog_proof).verify(proof.event, demo.keys, origin)
    show(say("leaf", t, inquiry=bank_inquiry, index=proof.leaf_index, origin=origin, size=checkpoint.size))
    show(say("proof_checked", t, witnesses=witnesses))
    show(textwrap.indent(proof.tlog_proof.decode(), "    "))

    heading(say("step_8", t))
    async with demo.channel("company", "440000") as channel:
        applied = await inquiry_pb2_grpc.InquiryServiceStub(channel).ApplyForRepair(
            inquiry_pb2.ApplyForRepairRequest(
                record_id=debtor_id,
                evidence="Enforcement closed: the judgment was performed in full (court receipt 2026-118)",
                commitment="The company commits to perform every effective judgment in time",
            ),
            timeout=10,
        )
    async with demo.channel("court-440000", "440000") as channel:
        court = registry_pb2_grpc.RegistryServiceStub(channel)
        application_id = applied.application.application_id
        await court.AcceptRepair(registry_pb2.AcceptRepairRequest(application_id=application_id), timeout=10)
        decided = await court.DecideRepair(
            registry_pb2.DecideRepairRequest(
                application_id=application_id, approve=True, reason="the judgment was performed in full"
            ),
            timeout=10,
        )
    show(repair_view(decided.application, t))
    stopped = await _regions_where(demo, lambda node: _status(node, debtor_origin, debtor_id) is RecordStatus.REPAIRED)
    show(
        table(
            [say("region", t), say("stopped_disclosing", t)],
            [(region, say("yes" if region in stopped else "revocation_queued", t)) for region in demo.nodes],
        )
    )
    async with demo.channel("bank", "110000") as channel:
        feed = await inquiry_pb2_grpc.InquiryServiceStub(channel).ListRevocations(
            inquiry_pb2.ListRevocationsRequest(), timeout=10
        )
    show(revocations_view(feed.revocations, demo.keys, t))
    explain(say("explain_8", t))

    heading(say("step_9", t))
    show(
        table(
            [say(k, t) for k in ("region", "node", "records", "log_events", "signed_checkpoint")],
            [
                (
                    region,
                    region_name(region, t),
                    node.count("records"),
                    node.count("events"),
                    _checkpoint_size(node, t),
                )
                for region, node in demo.nodes.items()
            ],
        )
    )


async def _witnessed_proof(demo: Demo, event_id: str) -> tuple[compliance_pb2.GetInclusionProofResponse, int]:
    """The officer's inclusion proof of ``event_id`` at a checkpoint Beijing's peers have cosigned (each cosigns
    the latest checkpoint within a second or so of its publication), and how many of them cosigned it."""
    beijing = demo.nodes["110000"]

    def cosigned() -> bool:
        leaf, latest = beijing.leaf_of(event_id), beijing.latest_checkpoint()
        return leaf is not None and latest is not None and latest.size > leaf and _cosignatures(latest.note) > 0

    await until(cosigned)
    async with demo.channel("officer", "110000") as channel:
        stub = compliance_pb2_grpc.ComplianceServiceStub(channel)
        request = compliance_pb2.GetInclusionProofRequest(event_id=event_id)
        proof = await stub.GetInclusionProof(request, timeout=10)
        for _ in range(100):  # a newer checkpoint, not yet cosigned, may have been published meanwhile
            if _cosignatures(proof.tlog_proof) > 0:
                break
            await asyncio.sleep(0.1)
            proof = await stub.GetInclusionProof(request, timeout=10)
    return proof, _cosignatures(proof.tlog_proof)


def _cosignatures(note: bytes) -> int:
    """The witnesses' signature lines in a checkpoint note or tlog-proof (the node's own key is not a witness's)."""
    return note.decode(errors="replace").count("\n— share-gateway/witness/")


async def _regions_where(demo: Demo, holds: Callable[[RegionNode], bool], seconds: float = 60.0) -> set[str]:
    """The regions whose node ``holds``, once all do or ``seconds`` have passed (deliveries are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        regions = {region for region, node in demo.nodes.items() if holds(node)}
        if len(regions) == len(demo.nodes) or asyncio.get_running_loop().time() > deadline:
            return regions
        await asyncio.sleep(0.05)


def _status(node: RegionNode, origin: str, record_id: str) -> RecordStatus | None:
    return node.status(origin, record_id)


def _checkpoint_size(node: RegionNode, language: Language) -> str:
    latest = node.latest_checkpoint()
    return "—" if latest is None else say("size", language, size=latest.size)
