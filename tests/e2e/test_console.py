"""The web console in a real browser (Debian's Chromium, driven by Playwright) against three regional nodes, each
`share-gateway serve` in its own process, and the console itself a `share-gateway console` process.

Screenshots are kept under the module's pytest temporary folder, in ``console-artefacts/``.
"""

from __future__ import annotations

import asyncio
import collections
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from share_gateway.client import credentials, open_channel
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, inquiry_pb2_grpc
from tests.federation import REGIONS, channel, federated, seed
from tests.processes import Cluster, Process, federation_cluster
from tests.support import CALLERS, COMPANY, inquiry, person, resident_id
from tests.waiting import PATIENCE, PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)

ORIGIN = REGIONS[0]
CHROMIUM = "/usr/bin/chromium"
T = TypeVar("T")
AXE = Path(__file__).parents[1] / "data" / "axe" / "axe-4.14.1.min.js"


@dataclass
class Console:
    process: Process
    url: str  # with the one-time token

    @property
    def base(self) -> str:
        """The console's origin, without the path it landed on."""
        match = re.match(r"http://[^/]+", self.url)
        assert match, self.url
        return match.group(0)


def start_console(cluster: Cluster, identity: str) -> Console:
    layout = cluster.layout
    nodes = [arg for region in REGIONS for arg in ("--node", f"localhost:{cluster.ports[region]}")]
    trust = ["--manifest", str(layout.manifest), "--authority", str(layout.authority_public_key)]
    identity_dir = str(layout.client(identity).directory)
    command = [sys.executable, "-m", "share_gateway.cli", "console", *nodes, "--identity", identity_dir, *trust]
    process = Process(command, ready="console at")
    match = re.search(r"console at (http://127\.0\.0\.1:\d+/\S*\?token=\S+)", process.wait_ready())
    assert match, "".join(process.output)
    return Console(process, match.group(1))


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on a thread of its own: Playwright's sync API holds an event loop on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def database(cluster: Cluster, region: str) -> Path:
    return cluster.layout.node_dir(region) / f"{region}.db"


def inquiries_logged(cluster: Cluster, region: str) -> list[str]:
    """The event ids of the integrated inquiries about the company in ``region``'s log, oldest first."""
    with closing(sqlite3.connect(database(cluster, region))) as connection:
        rows = connection.execute(
            "SELECT event_id FROM log_entries WHERE kind = 'inquiry' AND subject_id = ? ORDER BY leaf_index",
            (COMPANY,),
        ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three regions, a penalty about the company in each, and two federated inquiries by the bank, logged."""
    with federation_cluster(tmp_path_factory.mktemp("federation")) as running:

        async def activity() -> None:
            await seed(running.layout, running.ports)
            for _ in range(2):
                await federated(running.layout, running.ports[ORIGIN])

        run_async(activity())
        wait_until(lambda: len(inquiries_logged(running, ORIGIN)) >= 2)
        yield running


@pytest.fixture(scope="module")
def officer_console(cluster: Cluster) -> Iterator[Console]:
    console = start_console(cluster, "officer")
    yield console
    console.process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def officer_page(browser: Browser, officer_console: Console) -> Iterator[Page]:
    """A browser tab that has used the officer console's one-time token (so holds its session cookie)."""
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(officer_console.url)
    assert response is not None
    assert response.status == 200
    yield page
    context.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-artefacts")


def status_of(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_console_answers_403_without_the_token_and_the_token_works_once(
    browser: Browser, officer_console: Console, officer_page: Page
) -> None:
    for path in ("/", "/search?subject=" + COMPANY, "/events/0/0", "/static/console.css"):
        status, body = status_of(officer_console.base + path)
        assert (status, body) == (403, b"403 Forbidden")
    assert status_of(officer_console.base + "/?token=not-the-token")[0] == 403
    # The officer's tab (officer_page) spent the token: another browser cannot use it again.
    other = browser.new_context()
    try:
        response = other.new_page().goto(officer_console.url)
        assert response is not None
        assert response.status == 403
    finally:
        other.close()
    cookie = next(c for c in officer_page.context.cookies() if c["name"] == "sgw_console")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert "token=" not in officer_page.url
    # With the session but without its CSRF token, a form that changes something is refused.
    forged = officer_page.request.post(officer_console.base + "/language", form={"language": "zh", "back": "/"})
    assert forged.status == 403
    genuine = officer_page.locator("input[name=csrf]").get_attribute("value")
    assert genuine
    form: dict[str, str | float | bool] = {"language": "en", "back": "/", "csrf": genuine}
    assert officer_page.request.post(officer_console.base + "/language", form=form, max_redirects=0).status == 303


def verdict_after_reloads(page: Page, want: str) -> str:
    """Reload the event page until its verdict is ``want`` (witnesses cosign a while after the inquiry)."""
    deadline = time.monotonic() + PATIENCE
    while True:
        verdict = page.locator("[data-verdict]").get_attribute("data-verdict") or ""
        if verdict == want or time.monotonic() > deadline:
            return verdict
        time.sleep(0.5)
        page.reload()


def search_subject(page: Page, base: str, node: int = 0) -> None:
    page.goto(f"{base}/search")
    page.select_option("#node", str(node))
    page.fill("#subject", COMPANY)
    page.select_option("#kind", "inquiry")
    page.click("button[type=submit] >> text=Search")
    page.wait_for_selector("table.results")


def test_an_officer_finds_an_inquiry_by_subject_and_sees_its_proof_verified(
    officer_page: Page, officer_console: Console, artefacts: Path
) -> None:
    search_subject(officer_page, officer_console.base)
    assert "Events 1 to" in officer_page.inner_text("[data-figure=result-count]")
    officer_page.locator("table.results tbody tr a").first.click()
    officer_page.wait_for_selector("[data-verdict]")
    assert verdict_after_reloads(officer_page, "verified") == "verified"
    verdict = officer_page.inner_text("[data-verdict]")
    assert verdict.startswith("✓ Verified")
    assert "cosigned by" in verdict
    assert COMPANY in officer_page.inner_text("[data-canonical]")
    officer_page.screenshot(path=str(artefacts / "event-verified.png"), full_page=True)


def test_the_search_is_paged_and_says_where_each_page_is(
    cluster: Cluster, officer_page: Page, officer_console: Console
) -> None:
    total = len(inquiries_logged(cluster, ORIGIN))
    officer_page.goto(f"{officer_console.base}/search?node=0&subject={COMPANY}&kind=inquiry&size=1")
    assert officer_page.inner_text("[data-figure=result-count]") == f"Events 1 to 1 of {total}; more follow"
    first = officer_page.inner_text("table.results tbody td >> nth=0")
    officer_page.click("text=Next page")
    officer_page.wait_for_function(
        "() => document.querySelector('[data-figure=result-count]').innerText.startsWith('Events 2 to 2')"
    )
    assert officer_page.inner_text("[data-figure=result-count]").startswith(f"Events 2 to 2 of {total}")
    assert officer_page.inner_text("table.results tbody td >> nth=0") != first
    assert "shown=1" in officer_page.url  # htmx pushed the page's address: a reload shows the same page
    assert officer_page.locator("table.results tbody tr").count() == 1


def test_an_officer_downloads_a_subject_s_events_as_a_complete_bundle_that_verifies_offline(
    cluster: Cluster, officer_page: Page, officer_console: Console, tmp_path: Path
) -> None:
    """The bundle rests on the node's latest checkpoint, which verifies offline once its witnesses cosigned it: the
    officer downloads again until then (a second or so after the last activity)."""
    layout = cluster.layout
    trust = ["--manifest", str(layout.manifest), "--authority", str(layout.authority_public_key)]
    bundle = tmp_path / "bundle.json"
    checked: list[subprocess.CompletedProcess[str]] = []

    def downloaded_and_verified() -> bool:
        officer_page.goto(f"{officer_console.base}/search?node=0&subject={COMPANY}")
        with officer_page.expect_download() as downloading:
            officer_page.click("a[data-export]")
        downloading.value.save_as(bundle)
        command = [sys.executable, "-m", "share_gateway.cli", "audit", "verify-bundle", str(bundle), *trust]
        checked.append(subprocess.run(command, capture_output=True, text=True, timeout=PATIENCE, check=False))
        return checked[-1].returncode == 0

    wait_until(downloaded_and_verified)
    assert bundle.read_bytes().startswith(b'{"completeness":'), "one subject alone: the bundle proves it is complete"
    assert all("cosigned" in c.stdout + c.stderr for c in checked[:-1]), "only a checkpoint not yet cosigned fails"
    verified = checked[-1].stdout
    assert re.search(r"^complete: these are all \d+ event\(s\) about ", verified, re.M), verified


def test_an_officer_investigates_a_subject_across_every_region_at_once(
    cluster: Cluster, officer_page: Page, officer_console: Console
) -> None:
    """The bank's federated inquiries about the company were logged by the asking region and by each region that
    answered: one investigation shows every region's count and first page, with its search and its bundle."""
    officer_page.goto(officer_console.base + "/investigate")
    assert officer_page.locator("#subject-error").count() == 0, "an empty form is not a wrong one"
    officer_page.fill("#subject", COMPANY)
    officer_page.click("main form button[type=submit]")
    officer_page.wait_for_selector("[data-figure=investigation-total]")
    counts = [int(c.replace(",", "")) for c in officer_page.locator("[data-figure=region-count]").all_inner_texts()]
    assert counts[0] == len(inquiries_logged(cluster, ORIGIN))
    assert len(counts) == len(REGIONS)
    assert all(count >= 2 for count in counts), counts
    total = officer_page.inner_text("[data-figure=investigation-total]")
    assert total.startswith(f"{sum(counts)} events in {len(REGIONS)} regions"), total
    for region in range(len(REGIONS)):
        section = officer_page.locator(f"section[data-region='{region}']")
        assert COMPANY in section.locator("table.results tbody").inner_text()
        assert section.locator("a[data-export]").get_attribute("href") == (
            f"/export?actor=&subject={COMPANY}&purpose=&outcome=&kind=inquiry&since=&until=&node={region}"
        )
    # Naming both a subject and a requester is one investigation too many.
    officer_page.goto(f"{officer_console.base}/investigate?subject={COMPANY}&actor=sgw://institution/x")
    assert "name one subject or one requester" in officer_page.inner_text("#subject-error")
    # A date at the calendar's end is a form error, not a failed page.
    answer = officer_page.goto(f"{officer_console.base}/investigate?actor=sgw://institution/x&until=0001-01-01")
    assert answer is not None
    assert answer.status == 200
    assert "outside the dates a range can cover" in officer_page.inner_text("#until-error")


def test_a_tampered_event_shows_a_cross_with_the_reason(
    cluster: Cluster, officer_page: Page, officer_console: Console, artefacts: Path
) -> None:
    tampered = inquiries_logged(cluster, ORIGIN)[-1]
    with closing(sqlite3.connect(database(cluster, ORIGIN))) as connection, connection:
        body = bytes(connection.execute("SELECT body FROM events WHERE event_id = ?", (tampered,)).fetchone()[0])
        altered = body.replace(b'"loan_underwriting"', b'"loan_underwritinG"', 1)
        assert altered != body
        connection.execute("UPDATE events SET body = ? WHERE event_id = ?", (altered, tampered))
        leaf = connection.execute("SELECT leaf_index FROM log_entries WHERE event_id = ?", (tampered,)).fetchone()[0]
    officer_page.goto(f"{officer_console.base}/events/0/{leaf}")
    verdict = officer_page.inner_text("[data-verdict]")
    assert officer_page.locator("[data-verdict]").get_attribute("data-verdict") == "failed"
    assert verdict.startswith("✗ Does not verify")
    assert "the event's bytes are not the ones logged" in verdict
    officer_page.screenshot(path=str(artefacts / "event-tampered.png"), full_page=True)


def test_the_overview_draws_each_region_s_chart_with_data(
    officer_page: Page, officer_console: Console, artefacts: Path
) -> None:
    officer_page.goto(officer_console.base + "/")
    officer_page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length === 3")
    charts = officer_page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(canvas => {
            const chart = Chart.getChart(canvas);
            const counted = chart.data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0);
            const bars = chart.getSortedVisibleDatasetMetas().flatMap(m => m.data).filter(bar => bar.height > 0);
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let inked = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) inked++; }
            return {counted, bars: bars.length, inked};
        })"""
    )
    origin = charts[0]
    assert origin["counted"] >= 2, charts
    assert origin["bars"] >= 1, charts
    assert origin["inked"] > 0, charts
    assert int(officer_page.inner_text("[data-figure=inquiries] >> nth=0").replace(",", "")) >= 2
    # The log's growth per day counts every event, the inquiries among them; nothing is overdue in this federation.
    logged = [int(c) for c in officer_page.locator("tr[data-logged] >> nth=0").locator("td").all_inner_texts() if c]
    assert sum(logged) >= origin["counted"] + 3, logged  # the three penalties seeded, at least
    assert officer_page.inner_text("[data-figure=overdue-repairs] >> nth=0") == "0"
    assert officer_page.inner_text("[data-figure=overdue-listings] >> nth=0") == "0"
    assert officer_page.locator("h2", has_text="Region 110000").count() == 1
    officer_page.screenshot(path=str(artefacts / "overview-en.png"), full_page=True)
    officer_page.select_option("#language", "zh")
    officer_page.click("form.language button")
    officer_page.wait_for_selector("html[lang=zh-Hans]")
    assert officer_page.inner_text("h1") == "概览"
    officer_page.screenshot(path=str(artefacts / "overview-zh.png"), full_page=True)
    officer_page.select_option("#language", "en")
    officer_page.click("form.language button")
    officer_page.wait_for_selector("html[lang=en]")


def test_the_overview_prints_as_a_report_with_its_charts_and_the_checkpoints_it_rests_on(
    officer_page: Page, officer_console: Console, artefacts: Path
) -> None:
    officer_page.goto(officer_console.base + "/")
    officer_page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length === 3")
    basis = officer_page.inner_text("[data-report]")
    assert "reviewed by sgw://person/" in basis
    notes = officer_page.locator("[data-checkpoint]")
    assert notes.count() == 3
    origin, size = notes.first.inner_text().splitlines()[:2]
    assert origin == f"share-gateway/node/{ORIGIN}"
    assert size == officer_page.inner_text("[data-figure=checkpoint-size] >> nth=0").replace(",", "")
    officer_page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    officer_page.click("[data-print]")
    assert officer_page.evaluate("() => window.printed === true"), "the button prints the page"
    officer_page.emulate_media(media="print")
    try:
        assert not officer_page.locator("header").is_visible()
        assert not officer_page.locator("[data-print]").is_visible()
        assert officer_page.locator("[data-report]").is_visible()
        assert notes.first.is_visible()
        pdf = officer_page.pdf(format="A4", print_background=True)
    finally:
        officer_page.emulate_media(media="screen")
    (artefacts / "overview-report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-")
    pages = re.search(rb"/Count (\d+)", pdf)
    assert pages is not None
    assert int(pages.group(1)) >= 3, "each region's section starts a page"


def test_a_subject_s_console_gets_403_on_officer_pages_and_its_certificate_is_denied_by_the_node(
    browser: Browser, cluster: Cluster
) -> None:
    console = start_console(cluster, "company")
    context = browser.new_context()
    try:
        page = context.new_page()
        first = page.goto(console.url)  # a subject's console lands on its own history
        assert first is not None
        assert first.status == 200
        assert page.url == console.base + "/me"
        for path in ("/", "/search", f"/search?subject={COMPANY}", "/events/0/0"):
            response = page.goto(console.base + path)
            assert response is not None
            assert response.status == 403
            assert page.content().count("403 Forbidden") == 1
    finally:
        context.close()
        console.process.stop()

    async def ask_node() -> grpc.StatusCode:
        files = cluster.layout.client("company")
        channel = open_channel(
            f"localhost:{cluster.ports[ORIGIN]}", credentials(files.certificate, files.key, files.ca)
        )
        async with channel:
            now = datetime.now(UTC)
            request = compliance_pb2.GetActivitySummaryRequest()
            request.since.FromDatetime(now - timedelta(days=1))
            request.until.FromDatetime(now)
            try:
                await compliance_pb2_grpc.ComplianceServiceStub(channel).GetActivitySummary(request, timeout=10)
            except grpc.aio.AioRpcError as error:
                return error.code()
            return grpc.StatusCode.OK

    assert run_async(ask_node()) is grpc.StatusCode.PERMISSION_DENIED


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']}" for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_overview_and_search_pages_pass_axe_and_the_keyboard_reaches_the_search_and_its_results(
    browser: Browser, officer_page: Page, officer_console: Console
) -> None:
    # axe is injected as a script, which the console's Content-Security-Policy refuses: a tab that bypasses it, with
    # the officer's session.
    context = browser.new_context(bypass_csp=True)
    context.add_cookies(officer_page.context.cookies())  # type: ignore[arg-type]
    try:
        keyboard_and_axe(context.new_page(), officer_console)
    finally:
        context.close()


def keyboard_and_axe(officer_page: Page, officer_console: Console) -> None:
    officer_page.goto(officer_console.base + "/")
    officer_page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length === 3")
    assert serious_violations(officer_page) == []
    officer_page.goto(officer_console.base + "/search")
    # From the top of the page, with the keyboard only: to the subject field, then search, then to a result.
    focused = ""
    for _ in range(20):
        officer_page.keyboard.press("Tab")
        focused = officer_page.evaluate("() => document.activeElement.id")
        if focused == "subject":
            break
    assert focused == "subject"
    officer_page.keyboard.type(COMPANY)
    officer_page.keyboard.press("Enter")
    officer_page.wait_for_selector("table.results a")
    for _ in range(40):
        officer_page.keyboard.press("Tab")
        if officer_page.evaluate("() => !!document.activeElement.closest('table.results')"):
            break
    assert officer_page.evaluate("() => document.activeElement.closest('table.results') !== null")
    assert serious_violations(officer_page) == []


def test_a_harvesting_client_shows_up_as_an_alert_that_leads_to_its_events(
    cluster: Cluster, officer_page: Page, officer_console: Console, artefacts: Path
) -> None:
    """A person counting through resident ID numbers past its quota is suspected at the node; the officer's
    overview shows the alert, and following it lists the harvesting_suspected event with the harvester as actor."""
    harvester = CALLERS["person"][0].uri

    async def harvest() -> collections.Counter[grpc.StatusCode]:
        got: collections.Counter[grpc.StatusCode] = collections.Counter()
        async with channel(cluster.layout, cluster.ports[ORIGIN], "person") as harvesting:
            stub = inquiry_pb2_grpc.InquiryServiceStub(harvesting)
            for serial in range(1, 46):  # the purpose's burst is 20: the rest are refused, most of them slowly
                try:
                    await stub.Inquire(inquiry("public_lookup", person(resident_id(serial))), timeout=PATIENCE)
                    got[grpc.StatusCode.OK] += 1
                except grpc.aio.AioRpcError as error:
                    got[error.code()] += 1
        return got

    got = run_async(harvest())
    assert set(got) == {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, got
    alert = officer_page.locator("[data-figure=harvesting-alerts] >> nth=0")

    def alerted() -> bool:
        officer_page.goto(officer_console.base + "/")
        return int(alert.inner_text().replace(",", "")) >= 1

    wait_until(alerted)
    assert alert.get_attribute("class") == "bad"
    officer_page.screenshot(path=str(artefacts / "overview-harvesting-alert.png"), full_page=True)
    alert.locator("a").click()
    officer_page.wait_for_url(re.compile(r"/search\?node=0&kind=harvesting_suspected"))
    found = officer_page.locator("table.results tbody tr")
    assert found.count() >= 1
    assert harvester in found.first.inner_text()
    assert "harvesting_suspected" in found.first.inner_text()
    # Investigating the harvester: its inquiries, and the quota refusals logged for it, in its region.
    investigation = f"{officer_console.base}/investigate?actor={harvester}"

    def refusals_logged() -> bool:
        officer_page.goto(investigation)
        figure = officer_page.locator("section[data-region='0'] [data-figure=quota-refusals]")
        return int(figure.inner_text().replace(",", "")) >= 1

    wait_until(refusals_logged)
    inquiries = officer_page.inner_text("section[data-region='0'] [data-figure=region-count]")
    assert int(inquiries) == got[grpc.StatusCode.OK]
    # Its usage over the days: its inquiries and the quota refusal events, drawn per day.
    officer_page.wait_for_function("() => Chart.getChart(document.querySelector('canvas[data-chart=\"0\"]'))")
    drawn = officer_page.evaluate(
        """() => Chart.getChart(document.querySelector('canvas[data-chart="0"]')).data.datasets.map(
            d => [d.label, d.data.reduce((a, b) => a + b, 0)])"""
    )
    totals = dict(drawn)
    assert totals["public_lookup · allowed"] == got[grpc.StatusCode.OK], drawn
    assert totals["quota refusal events · denied"] >= 1, drawn
