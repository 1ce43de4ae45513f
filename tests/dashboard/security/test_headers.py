"""No security headers: every answer of every blueprint now carries a strict CSP and its
companions, and real Chromium runs the pages under that CSP without a single violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from dashboard import create_app, database
from hub.bulk.demo import DEMO_PIN, DEMO_STEWARD_PASSWORD
from tests.dashboard.conftest import sign_in_by_session
from tests.fixtures.browser import new_page
from tests.fixtures.web import serve_app

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def assert_secured(response, where: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives.get("frame-ancestors") == "'none'", where
    assert directives.get("script-src") == "'self'", where  # no 'unsafe-inline', no hosts
    assert directives.get("default-src") == "'self'", where
    assert "unsafe" not in policy, where
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{where}: {name}"


def concrete(rule) -> str:
    """Return a URL of ``rule`` with every argument filled in (ids 1, words "x")."""

    def fill(match: re.Match[str]) -> str:
        return "1" if match.group(1) == "int" else "x"

    return ARGUMENT.sub(fill, rule.rule)


def test_every_route_of_every_blueprint_sends_the_headers(app):
    admin = app.test_client()
    sign_in_by_session(admin, "1003")  # an admin: steward and admin pages answer 200
    seen_blueprints = set()
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS"})[0]
        answer = admin.open(concrete(rule), method=method)
        assert_secured(answer, f"{method} {rule.rule} ({answer.status_code})")
        seen_blueprints.add(rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else "")
    assert set(app.blueprints) <= seen_blueprints


def test_refusals_and_unknown_pages_send_them_too(client):
    for answer in (client.get("/no/such/page"), client.post("/signin", data={})):
        assert answer.status_code in (400, 404)
        assert_secured(answer, answer.request.path)


def test_hsts_only_over_tls(app, database_url, tmp_path):
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers
    over_tls = app.test_client().get("/", base_url="https://localhost")
    assert over_tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    proxied = create_app(
        {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "TRUSTED_PROXIES": 1}
    )
    try:
        behind = proxied.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" in behind.headers
        forged = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in forged.headers  # no proxy trusted
    finally:
        database.dispose(proxied)


def test_no_template_carries_inline_script_style_or_handlers():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "dashboard"
    for template in [*root.rglob("*.html")]:
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", text), template


# --- in real Chromium -----------------------------------------------------------------------


@pytest.fixture
def site(sqlite_engine, tmp_path):
    """Serve the demo library from a migrated temp SQLite; yield its URL."""
    app = create_app(
        {"DATABASE_URL": str(sqlite_engine.url), "DATA_DIR": str(tmp_path), "SECRET_KEY": "csp"}
    )
    try:
        with serve_app(app) as url:
            yield url
    finally:
        database.dispose(app)


class Violations:
    """The CSP violations a page reports in its console."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.messages.append(message.text)


def inline_script_runs(page: Page) -> bool:
    """Tell whether the page would run an injected inline script (it must not)."""
    return page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__injected = true;";
                   document.head.appendChild(s); return window.__injected === true; }"""
    )


@pytest.mark.browser
def test_steward_pages_and_charts_run_under_the_csp_without_violations(site, browser: Browser):
    with new_page(browser, f"{site}/steward/") as page:
        violations = Violations(page)
        page.fill("#number", "1001")
        page.fill("#password", DEMO_STEWARD_PASSWORD)
        page.click("button:text('Sign in')")
        expect(page.locator("h1")).to_have_text("What needs me")
        before = page.locator("#live-time").inner_text()
        expect(page.locator("#live-time")).not_to_have_text(
            before, timeout=15_000
        )  # front.js polls
        page.goto(f"{site}/steward/reports")
        expect(page.locator("svg.chart").first).to_be_visible()
        assert violations.messages == []
        assert not inline_script_runs(page)
        assert violations.messages  # ... and Chromium says why


@pytest.mark.browser
def test_tablet_booking_runs_under_the_csp_without_violations(site, browser: Browser):
    with new_page(browser, f"{site}/tablet/", viewport={"width": 1280, "height": 800}) as page:
        violations = Violations(page)
        expect(page.locator("#card-uid")).to_be_focused()  # tablet.js ran
        page.fill("#number", "1004")
        page.fill("#pin", DEMO_PIN)
        page.click("text=Continue")
        expect(page.locator("h1")).to_have_text("Pick a machine")
        page.click("a.machine[href$='/machines/laser']")
        page.click("[aria-label=Later]")
        page.locator("a.slot.free").first.click()
        page.click("#confirm-booking")
        expect(page.locator(".flash")).to_contain_text("Booked: Laser cutter")
        assert violations.messages == []
        assert not inline_script_runs(page)


@pytest.mark.browser
def test_another_site_cannot_frame_a_signed_in_page(site, browser: Browser):
    with new_page(browser, f"{site}/steward/") as page:
        page.fill("#number", "1001")
        page.fill("#password", DEMO_STEWARD_PASSWORD)
        page.click("button:text('Sign in')")
        expect(page.locator("h1")).to_have_text("What needs me")
        # Same origin, cookies and all: only frame-ancestors 'none' keeps the page out.
        page.set_content(f'<iframe id="f" src="{site}/steward/"></iframe>', wait_until="load")
        framed = page.frames[1]
        assert "What needs me" not in framed.content()
        assert not framed.url.startswith(site)  # Chromium shows its own error page instead
