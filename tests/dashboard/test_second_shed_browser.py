"""A new steward sets up a second shed from nothing, in real headless Chromium, through the
steward pages only: register and provision a kiosk, add lockers and a tool, add a member with a
card and a training, a maintenance plan and a bookable machine. Then a simulated kiosk, logged
in with the credentials the provisioning page showed, takes the new member's card."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from dashboard import create_app, database
from hub.bookings import resource_by_code
from hub.infra.db import reading
from hub.inventory import registry
from hub.maintenance.models import MaintenancePlan
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.dashboard.test_dashboard_browser import LAPTOP, signed_in
from tests.fixtures.browser import new_page, screenshot
from tests.fixtures.waiting import wait_until
from tests.fixtures.web import serve_app
from tests.kiosk.builders import kiosk_settings
from tests.kiosk.harness import start_hub

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KIOSK, SITE = "barn-1", "south"
KIOSK_SCREEN = {"width": 1280, "height": 800}  # the 800x480 screen plus its simulation panel
TOOL, TRAINING = "PLANER-1", "router"  # the tool needs the demo's router induction
CARD, NUMBER = "5EC0DD01", "2001"
BUSY_MS = 15_000  # the kiosk's screen on a busy machine: more than Playwright's 5 s default


@pytest.fixture
def database_content() -> str:
    return "demo"  # steward 1001 and the demo trainings; the second shed is added on top


@pytest.fixture
def hub_url(database_url, mosquitto, tmp_path):
    """Serve the demo library; kiosks are provisioned on the test's running Mosquitto."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path / "hub"),
            "SECRET_KEY": "walk",
            "BROKER_DATA_DIR": str(mosquitto.data_dir),
            "MQTT_HOST": mosquitto.host,
            "MQTT_PORT": mosquitto.port,
        }
    )
    try:
        with serve_app(app) as url:
            yield url
    finally:
        database.dispose(app)


def register_and_provision(page: Page, url: str) -> dict[str, str]:
    """Register the kiosk with no lockers, add three, provision it; return its login."""
    page.goto(f"{url}/steward/kiosks")
    page.click("text=Register a kiosk")
    page.fill("#f-kiosk_id", KIOSK)
    page.fill("#f-site", SITE)
    page.fill("#f-name", "Barn by the orchard")
    page.fill("#f-slots", "0")
    page.click("button:text('Register')")
    expect(page.locator("h1")).to_contain_text(f"Kiosk {KIOSK}")
    page.fill("#f-slots", "1-3")
    page.click("button:text('Add lockers')")
    expect(page.locator(".flash")).to_contain_text("Lockers 1, 2, 3 added.")
    screenshot(page, "second-shed-kiosk.png", full_page=True)
    page.click("button:text('Provision')")
    expect(page.locator("h1")).to_contain_text("its broker login")
    login = {
        term: page.locator(f"dl.login dt:text-is('{term}') + dd code").inner_text()
        for term in ("Kiosk id", "Site", "Broker host", "Broker port", "Username")
    }
    login["Password"] = page.locator("#kiosk-password").inner_text()
    screenshot(page, "second-shed-login.png", full_page=True)
    return login


def add_tool(page: Page, url: str) -> None:
    page.goto(f"{url}/steward/tools/new")
    page.fill("#f-code", TOOL)
    page.fill("#f-name", "Thickness planer")
    page.fill("#f-category", "workshop")
    page.select_option("#f-training", TRAINING)
    page.fill("#f-kiosk_id", KIOSK)
    page.fill("#f-slot", "1")
    page.click("button:text('Add tool')")
    expect(page.locator("h1")).to_contain_text(TOOL)


def add_member(page: Page, url: str) -> None:
    """Add the member, give them a card and the tool's training on their page."""
    page.goto(f"{url}/steward/members/new")
    page.fill("#new-name", "Nell Newcomer")
    page.fill("#new-number", NUMBER)
    page.click("button:text('Add member')")
    expect(page.locator("h1")).to_contain_text("Nell Newcomer")
    page.fill("#card-uid", CARD)
    page.click("button:text('Assign card')")
    expect(page.locator("#cards")).to_contain_text(CARD)
    page.select_option("#training-training", TRAINING)
    page.click("button:text('Grant')")
    expect(page.locator("#trainings")).to_contain_text(TRAINING)
    screenshot(page, "second-shed-member.png", full_page=True)


def add_plan(page: Page, url: str) -> None:
    page.goto(f"{url}/steward/maintenance")
    form = page.locator("#plan-form")
    form.get_by_label("Name").fill("Change the planer knives")
    form.get_by_label("For one tool").fill(TOOL)
    form.get_by_label("Loans").fill("30")
    form.get_by_role("button", name="Add plan").click()
    expect(page.locator(".flash")).to_contain_text("Plan 'Change the planer knives' added.")


def add_machine(page: Page, url: str) -> None:
    page.goto(f"{url}/steward/machines")
    page.click("text=Add a machine")
    page.fill("#code", "bandsaw")
    page.fill("#name", "Barn bandsaw")
    page.select_option("#training", TRAINING)
    page.fill("#slot_minutes", "30")
    page.fill("#max_booking_minutes", "120")
    page.click("button:text('Add the machine')")
    expect(page.locator(".flash")).to_contain_text("Barn bandsaw added")
    screenshot(page, "second-shed-machine.png", full_page=True)


def holds_card(store, card: str) -> bool:
    """Tell whether the kiosk's allow-list (if it has one yet) lets ``card`` in."""
    return store.allowlist is not None and card in store.allowlist.entries


@pytest.fixture
def kiosk_for(tmp_path):
    """Start an in-process simulated kiosk from a login read off the page; stop it after."""
    started: list[tuple[Station, SimulatedHardware]] = []

    def start(login: dict[str, str]) -> Station:
        settings = kiosk_settings(tmp_path / "kiosk", id=login["Kiosk id"], site=login["Site"])
        mqtt = replace(
            settings.mqtt,
            host=login["Broker host"],
            port=int(login["Broker port"]),
            username=login["Username"],
            password=login["Password"],
            reconnect_max_s=2,
        )
        hardware = SimulatedHardware(settings.lockers)
        station = Station(
            replace(settings, mqtt=mqtt),
            reader=hardware.reader,
            pin_factory=hardware.factory,
            simulation=hardware,
        ).start(serve_screen=True)
        started.append((station, hardware))
        return station

    yield start
    for station, hardware in started:
        station.stop()
        hardware.close()


def test_a_new_steward_sets_up_a_second_shed_and_its_kiosk_takes_the_new_card(
    browser, hub_url, engine, mosquitto, kiosk_for
):
    with signed_in(browser, hub_url, LAPTOP) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        login = register_and_provision(page, hub_url)
        add_tool(page, hub_url)
        add_member(page, hub_url)
        add_plan(page, hub_url)
        add_machine(page, hub_url)

    assert login["Username"] == KIOSK and login["Site"] == SITE
    with reading(engine) as session:
        assert registry.get_kiosk(session, KIOSK).provisioned_at is not None
        machine = resource_by_code(session, "bandsaw")
        assert machine.slot_minutes == 30 and machine.training_id is not None
        plans = session.exec(select(MaintenancePlan.name)).all()
    assert "Change the planer knives" in plans

    hub = start_hub(engine, mosquitto)
    try:
        station = kiosk_for(login)
        wait_until(
            lambda: station.submit(lambda kiosk: holds_card(kiosk.store, CARD)),
            60,
            "the new kiosk holding an allow-list with the new member",
        )
        wait_until(lambda: station.versions[1] is not None, 60, "the kiosk's config arriving")
        tap_on_the_kiosk_screen(browser, station)
    finally:
        hub.stop()


def tap_on_the_kiosk_screen(browser, station: Station) -> None:
    """Tap the new card on the kiosk's own page (its simulation panel): it greets the member
    and offers the new tool."""
    with new_page(browser, f"{station.screen.url}/", viewport=KIOSK_SCREEN) as page:
        card = page.locator(f"#sim-cards button[data-uid='{CARD}']")
        expect(card).to_be_visible(timeout=BUSY_MS)
        card.click()
        expect(page.locator("#title")).to_have_text("Hello, Nell", timeout=BUSY_MS)
        borrow = page.locator("button[data-action='borrow']")
        expect(borrow).to_have_count(1)
        expect(borrow).to_have_attribute("data-slot", "1")
        expect(borrow).to_contain_text("Thickness planer")
        screenshot(page, "second-shed-kiosk-greets.png")
    view = station.board.view
    assert view["state"] == "member" and view["member"]["number"] == NUMBER
    assert [choice["tool_code"] for choice in view["choices"]["borrow"]] == [TOOL]
