"""The data subject's pages of the web console in a real browser (Debian's Chromium, driven by Playwright): the
company's own console against three regional nodes, each `share-gateway serve` in its own process, one federation
for the module. What the pages show is checked against what the nodes answer the company's certificate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from playwright.sync_api import Browser, Page

from share_gateway.crypto.consent import SignedConsent
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc
from tests.consents import consent_to_wire, signed_consent
from tests.e2e.test_console import (
    Console,
    browser,  # noqa: F401 - the module's browser fixture
    run_async,
    serious_violations,
    start_console,
)
from tests.federation import REGIONS, channel, federated, seed
from tests.processes import Cluster, federation_cluster
from tests.support import (
    CALLERS,
    COMPANY,
    PERSON,
    debtor_request,
    entity,
    error_reason,
    inquiry,
    listable_penalty_request,
    penalty_request,
)
from tests.waiting import PATIENCE, PROCESS_TEST_SECONDS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)

ORIGIN, ELSEWHERE, _ = REGIONS
BANK = CALLERS["bank"][0].uri
MASKED_PERSON = "110105********1238"


@dataclass
class Activity:
    """What the module's federation holds about the company besides the seeded penalties."""

    withdrawn: SignedConsent  # the company withdraws it through the console's form
    kept: SignedConsent  # a forged form must not withdraw it
    dispute: common_pb2.Dispute
    listing: common_pb2.Listing  # notified: its objection window is open
    debtor: str  # a court's record about the company, which it applies to repair through the console
    applied: common_pb2.RepairApplication  # for another of the court's records, over gRPC: an officer oversees it


async def inquire_with(cluster: Cluster, consent: SignedConsent) -> inquiry_pb2.InquireResponse:
    request = inquiry("loan_underwriting")
    request.consent.CopyFrom(consent_to_wire(consent))
    async with channel(cluster.layout, cluster.ports[ORIGIN], "bank") as bank:
        return await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(request, timeout=30)


async def my_consents(cluster: Cluster) -> dict[str, inquiry_pb2.ConsentSummary]:
    async with channel(cluster.layout, cluster.ports[ORIGIN], "company") as company:
        answer = await inquiry_pb2_grpc.InquiryServiceStub(company).ListMyConsents(
            inquiry_pb2.ListMyConsentsRequest(), timeout=10
        )
    return {c.consent_id: c for c in answer.consents}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with federation_cluster(tmp_path_factory.mktemp("federation")) as running:
        yield running


@pytest.fixture(scope="module")
def activity(cluster: Cluster) -> Activity:
    """A federated inquiry by the bank, a person's lookup at another region, two consents the company signed
    (each registered by an inquiry with it) and the company's dispute of a penalty at its origin."""
    layout, ports = cluster.layout, cluster.ports

    async def act() -> Activity:
        await seed(layout, ports)
        await federated(layout, ports[ORIGIN])
        async with channel(layout, ports[ELSEWHERE], "person") as person:
            await inquiry_pb2_grpc.InquiryServiceStub(person).Inquire(inquiry("public_lookup"), timeout=30)
        consents = [
            signed_consent(layout.client("company"), entity(), BANK, evidence=text) for text in (b"one", b"two")
        ]
        for consent in consents:
            await inquire_with(cluster, consent)
        async with channel(layout, ports[ORIGIN], "regulator") as agency:
            submitted = await registry_pb2_grpc.RegistryServiceStub(agency).SubmitRecord(
                penalty_request("p-disputed"), timeout=10
            )
        async with channel(layout, ports[ORIGIN], "company") as company:
            filed = await inquiry_pb2_grpc.InquiryServiceStub(company).FileDispute(
                inquiry_pb2.FileDisputeRequest(record_id=submitted.record.record_id, claim="The fine was paid."),
                timeout=10,
            )
        async with channel(layout, ports[ORIGIN], "regulator") as agency:
            registry = registry_pb2_grpc.RegistryServiceStub(agency)
            listable = (await registry.SubmitRecord(listable_penalty_request("p-listed"), timeout=10)).record
            proposed = await registry.ProposeListing(
                registry_pb2.ProposeListingRequest(
                    record_id=listable.record_id,
                    list_name="serious_untrustworthy",
                    document="京市监信告〔2026〕12号",
                    reason="有履行能力但拒不履行法定义务，情节严重",
                    removal_conditions="履行法定义务并纠正失信行为",
                    remedies="收到告知后五个工作日内可提出书面异议",
                ),
                timeout=10,
            )
            notice = registry_pb2.NotifyListingRequest(
                listing_id=proposed.listing.listing_id, document="告知书 118", reason="告知理由和权利"
            )
            told = await registry.NotifyListing(notice, timeout=10)
        async with channel(layout, ports[ORIGIN], "court") as court:
            courts = registry_pb2_grpc.RegistryServiceStub(court)
            debtor = await courts.SubmitRecord(debtor_request("debtor-console"), timeout=10)
            overseen = await courts.SubmitRecord(debtor_request("debtor-overseen"), timeout=10)
        async with channel(layout, ports[ORIGIN], "company") as company:
            applied = await inquiry_pb2_grpc.InquiryServiceStub(company).ApplyForRepair(
                inquiry_pb2.ApplyForRepairRequest(
                    record_id=overseen.record.record_id,
                    evidence="(2026)京0105执568号 结案通知书",
                    commitment="依法履行",
                ),
                timeout=10,
            )
        return Activity(
            consents[0], consents[1], filed.dispute, told.listing, debtor.record.record_id, applied.application
        )

    return run_async(act())


@pytest.fixture(scope="module")
def company_console(cluster: Cluster) -> Iterator[Console]:
    console = start_console(cluster, "company")
    yield console
    console.process.stop()


@pytest.fixture(scope="module")
def company_page(browser: Browser, company_console: Console) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(company_console.url)
    assert response is not None
    assert response.status == 200
    yield page
    context.close()


def reload_until(page: Page, selector: str) -> bool:
    """Reload until ``selector`` is on the page (each region logs its inquiry a moment after answering)."""
    deadline = time.monotonic() + PATIENCE
    while page.locator(selector).count() == 0:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
        page.reload()
    return True


def test_a_subject_sees_who_looked_at_it_in_every_region_with_a_person_masked(
    activity: Activity, company_page: Page, company_console: Console
) -> None:
    company_page.goto(company_console.base + "/me")
    looked_elsewhere = f"tr[data-region='{ELSEWHERE}']:has(td[data-actor]:text-is('{MASKED_PERSON}'))"
    assert reload_until(company_page, looked_elsewhere)
    row = company_page.locator(looked_elsewhere).first.inner_text()
    assert "public_lookup" in row
    assert PERSON not in company_page.content()  # the birth date never reaches the page
    # The bank's federated inquiry, as each region answered it; newest first.
    assert company_page.locator(f"tr[data-region='{ORIGIN}'] td[data-actor]:text-is('91110000MA0000001L')").count()
    stamps = company_page.locator("table.history tbody tr td:first-child").all_inner_texts()
    assert stamps == sorted(stamps, reverse=True)
    assert all(s == "ok" for s in company_page.locator("table.regions tbody td:nth-child(2)").all_inner_texts()), (
        company_page.inner_text("table.regions")
    )
    assert company_page.locator("nav a[href='/search']").count() == 0  # no officer page offered


def test_a_subject_withdraws_a_consent_through_the_form_and_it_is_refused_afterwards(
    activity: Activity, cluster: Cluster, company_page: Page, company_console: Console
) -> None:
    consent_id = activity.withdrawn.consent_id
    company_page.goto(company_console.base + "/me/consents")
    row = company_page.locator(f"tr[data-consent='{consent_id}']")
    assert row.locator("[data-state]").get_attribute("data-state") == "in force"
    row.get_by_role("button", name=f"Withdraw consent {consent_id}").click()
    company_page.wait_for_url("**/me/consents?withdrawn=*")
    assert company_page.locator(f"tr[data-consent='{consent_id}'] [data-state]").get_attribute("data-state") == (
        "withdrawn"
    )
    at_node = run_async(my_consents(cluster))
    assert at_node[consent_id].HasField("revoked_at")
    assert not at_node[activity.kept.consent_id].HasField("revoked_at")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        run_async(inquire_with(cluster, activity.withdrawn))
    assert error_reason(raised.value) == "CONSENT_REVOKED"


def entries(page: Page) -> list[tuple[str, str]]:
    """The history rows on the page, as (region, leaf)."""
    rows = page.locator("table.history tbody tr")
    return [
        (rows.nth(i).get_attribute("data-region") or "", rows.nth(i).get_attribute("data-leaf") or "")
        for i in range(rows.count())
    ]


def test_who_looked_at_me_is_paged_across_regions(
    activity: Activity, company_page: Page, company_console: Console
) -> None:
    company_page.goto(company_console.base + "/me")
    assert reload_until(company_page, f"tr[data-region='{ELSEWHERE}'] td[data-actor]:text-is('{MASKED_PERSON}')")
    company_page.goto(company_console.base + "/me?size=2")
    count = company_page.inner_text("[data-figure=history-count]")
    total = int(count.split(" of ")[1].split(";")[0])
    assert total >= 4, count
    assert count.startswith(f"Inquiries 1 to 2 of {total}")
    seen = [entries(company_page)]
    while company_page.locator("text=Next page").count() and len(seen) <= total:
        company_page.click("text=Next page")
        company_page.wait_for_load_state()
        first = len(seen) * 2 + 1
        assert company_page.inner_text("[data-figure=history-count]").startswith(f"Inquiries {first} to ")
        seen.append(entries(company_page))
    rows = [row for page in seen for row in page]
    assert len(rows) == total
    assert len(set(rows)) == total  # every entry once, none repeated across pages


def test_a_withdrawal_without_the_session_s_csrf_token_is_refused_and_changes_nothing(
    activity: Activity, cluster: Cluster, company_page: Page, company_console: Console
) -> None:
    consent_id = activity.kept.consent_id
    company_page.goto(company_console.base + "/me/consents")
    form: dict[str, str | float | bool] = {"consent_id": consent_id, "node": "0"}
    url = company_console.base + "/me/consents/revoke"
    forged = company_page.request.post(url, form=form, max_redirects=0)
    assert forged.status == 403
    wrong = company_page.request.post(url, form={**form, "csrf": "forged"}, max_redirects=0)
    assert wrong.status == 403
    assert not run_async(my_consents(cluster))[consent_id].HasField("revoked_at")
    assert company_page.locator(f"tr[data-consent='{consent_id}'] [data-state]").get_attribute("data-state") == (
        "in force"
    )


def test_a_subject_sees_its_dispute_with_the_state_and_deadline_the_node_gives(
    activity: Activity, company_page: Page, company_console: Console
) -> None:
    dispute = activity.dispute
    company_page.goto(company_console.base + "/me/disputes")
    row = company_page.locator(f"tr[data-dispute='{dispute.dispute_id}']")
    assert row.count() == 1
    assert row.locator("[data-state]").get_attribute("data-state") == "filed"
    text = row.inner_text()
    assert dispute.answer_due
    assert dispute.answer_due in text
    assert dispute.record_id in text
    assert "The fine was paid." in text
    company_page.select_option("#language", "zh")
    company_page.click("form.language button")
    company_page.wait_for_selector("html[lang=zh-Hans]")
    assert company_page.inner_text("h1") == "我的异议"
    assert company_page.locator(f"tr[data-dispute='{dispute.dispute_id}'] [data-state]").inner_text() == "已提出"
    company_page.select_option("#language", "en")
    company_page.click("form.language button")
    company_page.wait_for_selector("html[lang=en]")


def test_a_subject_objects_to_a_listing_through_the_form_inside_its_window(
    activity: Activity, cluster: Cluster, company_page: Page, company_console: Console
) -> None:
    listing_id = activity.listing.listing_id
    company_page.goto(company_console.base + "/me/listings")
    section = company_page.locator(f"section[data-listing='{listing_id}']")
    assert section.locator("[data-state]").get_attribute("data-state") == "notified"
    assert section.locator("[data-due=objection]").inner_text() == activity.listing.objection_due
    section.get_by_label("Your statement and evidence").fill("已部分履行，附还款凭证")
    section.get_by_role("button", name="Object").click()
    company_page.wait_for_url("**/me/listings?objected=*")
    section = company_page.locator(f"section[data-listing='{listing_id}']")
    assert section.locator("[data-state]").get_attribute("data-state") == "objected"
    assert section.locator("form").count() == 0  # one objection: the form is gone

    async def at_origin() -> common_pb2.Listing:
        async with channel(cluster.layout, cluster.ports[ORIGIN], "company") as company:
            answer = await inquiry_pb2_grpc.InquiryServiceStub(company).ListMyListings(
                inquiry_pb2.ListMyListingsRequest(), timeout=10
            )
        return next(x for x in answer.listings if x.listing_id == listing_id)

    listing = run_async(at_origin())
    assert listing.state == common_pb2.LISTING_STATE_OBJECTED
    assert listing.history[-1].reason == "已部分履行，附还款凭证"


def test_a_subject_reads_its_records_verified_and_applies_for_repair_through_the_form(
    activity: Activity, cluster: Cluster, company_page: Page, company_console: Console
) -> None:
    company_page.goto(company_console.base + "/me/records")
    debtor = company_page.locator(f"section[data-record='{activity.debtor}']")
    assert debtor.locator("[data-verified]").get_attribute("data-verified") == "true"
    assert f"region {ORIGIN}" in debtor.locator("[data-verified]").inner_text()
    assert company_page.locator("[data-verified=false]").count() == 0
    disputed = company_page.locator(f"section[data-record='{activity.dispute.record_id}']")
    assert f"the origin answers by {activity.dispute.answer_due}" in disputed.inner_text()
    debtor.locator("summary").click()
    debtor.get_by_label("Proof that the obligations were met").fill("(2026)京0105执567号 结案通知书：已全部履行")
    debtor.get_by_label("Your credit commitment").fill("本单位承诺依法履行生效法律文书确定的义务")
    debtor.get_by_role("button", name="Apply").click()
    company_page.wait_for_url("**/me/repairs/*")
    application_id = company_page.url.split("/me/repairs/", 1)[1].split("?", 1)[0]

    async def at_origin() -> common_pb2.RepairApplication:
        async with channel(cluster.layout, cluster.ports[ORIGIN], "company") as company:
            answer = await inquiry_pb2_grpc.InquiryServiceStub(company).GetRepairApplication(
                inquiry_pb2.GetRepairApplicationRequest(application_id=application_id), timeout=10
            )
        return answer.application

    application = run_async(at_origin())
    assert application.record_id == activity.debtor
    assert application.state == common_pb2.REPAIR_STATE_SUBMITTED
    assert application.result_due
    # The application's page shows the state and deadlines the origin gives.
    assert company_page.locator("[data-state]").get_attribute("data-state") == "submitted"
    assert company_page.inner_text("[data-due=result]").startswith(application.result_due)


def test_a_subject_lists_its_repair_applications_from_every_region_and_opens_one(
    activity: Activity, company_page: Page, company_console: Console
) -> None:
    company_page.goto(company_console.base + "/me")
    company_page.click("nav >> text=My repair applications")
    applied = company_page.locator(f"tr[data-application='{activity.applied.application_id}']")
    assert applied.locator("[data-state]").get_attribute("data-state") == "submitted"
    assert applied.locator("[data-due=result]").inner_text().startswith(activity.applied.result_due)
    assert ORIGIN in applied.inner_text()
    applied.locator("a").click()
    company_page.wait_for_url(f"**/me/repairs/{activity.applied.application_id}?origin={ORIGIN}")
    assert company_page.locator("[data-state]").get_attribute("data-state") == "submitted"


@pytest.fixture(scope="module")
def officer_tab(browser: Browser, cluster: Cluster) -> Iterator[tuple[Page, Console]]:  # noqa: F811
    """A tab of an officer's console (its token used) on the module's federation."""
    console = start_console(cluster, "officer")
    context = browser.new_context()
    try:
        page = context.new_page()
        assert page.goto(console.url) is not None
        yield page, console
    finally:
        context.close()
        console.process.stop()


def test_an_officer_s_subject_pages_show_its_own_person_which_nobody_looked_at(
    activity: Activity, officer_tab: tuple[Page, Console]
) -> None:
    page, console = officer_tab
    response = page.goto(console.base + "/me")
    assert response is not None
    assert response.status == 200
    assert page.inner_text("[data-figure=history-count]").startswith("No inquiry about you")
    assert COMPANY not in page.inner_text("main")
    assert page.goto(console.base + "/me/disputes") is not None
    assert page.locator("table.disputes").count() == 0


def test_the_subject_pages_pass_axe(
    browser: Browser,  # noqa: F811
    activity: Activity,
    company_page: Page,
    company_console: Console,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # axe is injected as a script, which the console's Content-Security-Policy refuses: a tab that bypasses it.
    context = browser.new_context(bypass_csp=True)
    context.add_cookies(company_page.context.cookies())  # type: ignore[arg-type]
    artefacts: Path = tmp_path_factory.mktemp("console-subject-artefacts")
    try:
        page = context.new_page()
        for path in ("/me", "/me/records", "/me/repairs", "/me/consents", "/me/disputes", "/me/listings"):
            response = page.goto(company_console.base + path)
            assert response is not None
            assert response.status == 200
            assert serious_violations(page) == [], path
            page.screenshot(path=str(artefacts / f"{path.strip('/').replace('/', '-')}.png"), full_page=True)
    finally:
        context.close()


def test_an_officer_oversees_every_agency_s_repair_applications_and_listings_with_their_deadlines(
    activity: Activity, officer_tab: tuple[Page, Console]
) -> None:
    page, console = officer_tab
    page.goto(console.base + "/")
    page.click("nav >> text=Oversight")
    page.wait_for_selector("table[data-oversight=repair]")
    applied = page.locator(f"[data-oversight=repair] tr[data-step='{activity.applied.application_id}']")
    assert applied.locator("[data-state]").inner_text() == "submitted"
    due = applied.locator("[data-due]")
    expected = activity.applied.decision_due or activity.applied.result_due
    assert due.inner_text().endswith(expected)
    assert str(activity.applied.total_working_days) in applied.inner_text()
    listed = page.locator(f"[data-oversight=listing] tr[data-step='{activity.listing.listing_id}']")
    assert listed.count() == 1
    assert listed.locator("[data-due]").get_attribute("data-due") in ("objection", "review")
    assert COMPANY in listed.inner_text()
