"""The subject's own records as a self inquiry discloses them, each verified here against its origin's key from
the manifest, with the repair application form and the application's page.

Reading them is a self inquiry (the catalog's self-only purpose): the node logs it, as it logs every inquiry, so
the subject's own look appears in "who looked at me". A repair application may be made at any node: one holding
only a copy forwards it to the record's origin, which decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from share_gateway.client import verify_record_disclosure
from share_gateway.console.nodes import NodeLink, NodeRefused
from share_gateway.console.rendering import Console, render
from share_gateway.console.session import forbidden
from share_gateway.console.subject import RegionFailure, gather, genuine, moment, subject_page
from share_gateway.crypto.errors import VerificationError
from share_gateway.v1 import common_pb2

NO_MANIFEST = "Without --manifest the console cannot verify your records: start it with --manifest and --authority."
NO_SUCH_RECORD = "No such record."
MESSAGES = {NO_MANIFEST, NO_SUCH_RECORD}
REPAIR_STATES = {v: k.removeprefix("REPAIR_STATE_").lower() for k, v in common_pb2.RepairState.items()}


@dataclass(frozen=True)
class ShownRecord:
    record_id: str
    record_type: str
    origin_region: str
    decided_on: str
    fields: tuple[tuple[str, str], ...]
    verified: bool
    why: str = ""
    disputed: common_pb2.DisputeMark | None = None


def shown(disclosure: common_pb2.RecordDisclosure, console: Console) -> ShownRecord | None:
    """A disclosed record verified against the manifest's keys; None without a manifest to verify with."""
    if console.manifest is None:
        return None
    try:
        verified = verify_record_disclosure(disclosure, console.manifest.keys)
    except (VerificationError, ValueError) as error:
        return ShownRecord("", "", "", "", (), False, str(error))
    s = verified.statement
    decided = s.decided_on.isoformat() if s.decided_on else ""
    fields = tuple(sorted(verified.fields.items()))
    return ShownRecord(s.record_id, s.record_type, s.origin_region, decided, fields, True)


async def records(request: Request, console: Console) -> Response:
    subject = console.identity.subject
    assert subject is not None  # subject_page
    answer, failures = None, []
    for link in console.nodes:  # the first node that answers asks every region
        try:
            answer = await link.own_records(subject)
            break
        except NodeRefused as refused:
            if refused.denied:
                raise
            failures.append(RegionFailure(link.address, refused))
    rows: list[ShownRecord] = []
    if answer is not None:
        marks = {m.record_id: m for m in answer.disputed}
        for disclosure in answer.records:
            row = shown(disclosure, console)
            if row is not None:
                rows.append(replace(row, disputed=marks.get(row.record_id)))
    values = {
        "page": "records",
        "answer": answer,
        "rows": rows,
        "no_manifest": NO_MANIFEST if console.manifest is None else "",
        "failures": failures,
    }
    return render(request, "records.html", values)


async def apply_for_repair(request: Request, console: Console) -> Response:
    """A repair application at the first node that takes it (any node carries it to the record's origin)."""
    form = await request.form()
    if not genuine(request, form):
        return forbidden()
    record_id = str(form.get("record_id", "")).strip()
    if not record_id or not console.nodes:
        return render(request, "message.html", {"message": NO_SUCH_RECORD, "page": "records"}, 400)
    evidence, commitment = str(form.get("evidence", "")), str(form.get("commitment", ""))
    try:
        application = await console.nodes[0].apply_for_repair(record_id, evidence, commitment)
    except NodeRefused as refused:
        if refused.denied:
            raise
        return render(request, "message.html", {"message": str(refused), "page": "records"}, 400)
    where = urlencode({"origin": application.origin_region})
    return RedirectResponse(f"/me/repairs/{application.application_id}?{where}", status_code=303)


async def repair(request: Request, console: Console) -> Response:
    """One of the subject's repair applications, with its state and deadlines as the record's origin gives them."""
    application_id = request.path_params["application_id"]
    origin = request.query_params.get("origin", "")
    try:
        application = await console.nodes[0].repair_application(application_id, origin)
    except NodeRefused as refused:
        if refused.denied:
            raise
        return render(request, "message.html", {"message": str(refused), "page": "records"}, 404)
    values = {"page": "records", "a": application, "state": REPAIR_STATES.get(application.state, "unknown")}
    return render(request, "repair.html", values)


async def repairs(request: Request, console: Console) -> Response:
    """Every repair application of the subject's, from each region's node (the origin holds and decides each),
    newest first."""
    gathered = await gather(console.nodes, NodeLink.repair_applications)
    if gathered.all_denied:
        return forbidden()
    found = {a.application_id: a for _, listed in gathered.answers for a in listed}
    rows = sorted(found.values(), key=lambda a: a.submitted_at.ToNanoseconds(), reverse=True)
    values = {"page": "repairs", "rows": rows, "failures": gathered.failures, "moment": moment, "states": REPAIR_STATES}
    return render(request, "repairs.html", values)


def routes(console: Console) -> list[Route]:
    return [
        Route("/me/records", subject_page(records, console)),
        Route("/me/records/repair", subject_page(apply_for_repair, console), methods=["POST"]),
        Route("/me/repairs", subject_page(repairs, console)),
        Route("/me/repairs/{application_id}", subject_page(repair, console)),
    ]
