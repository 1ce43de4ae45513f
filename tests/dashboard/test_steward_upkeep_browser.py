"""The maintenance plans and the ledger's corrections in real headless Chromium: a steward adds
a plan and enters a transfer through the forms, and the pages are photographed to be looked at."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from hub.infra.db import reading
from hub.members.roster import member_by_number
from hub.timebank import ledger
from tests.dashboard.test_dashboard_browser import LAPTOP, PHONE, shed, shoot, signed_in

pytestmark = pytest.mark.browser
__all__ = ["shed"]  # the served demo library, a fixture


def test_add_a_plan_and_correct_the_ledger_in_a_browser(shed, browser, sqlite_engine):
    url, work = shed
    with signed_in(browser, url, LAPTOP) as page:
        page.goto(f"{url}/steward/maintenance")
        form = page.locator("#plan-form")
        form.get_by_label("Name").fill("Sharpen and oil")
        form.get_by_label("For one tool").fill("SAW-1")
        form.get_by_label("Loans").fill("20")
        form.get_by_label("Days").fill("90")
        form.get_by_role("button", name="Add plan").click()
        expect(page.locator(".flash")).to_contain_text("Plan 'Sharpen and oil' added.")
        expect(page.locator("#plans")).to_contain_text("every 20 loans or 90 days, whichever first")
        page.locator("#plans").scroll_into_view_if_needed()
        shoot(page, "steward-maintenance-plans.png")

        page.goto(f"{url}/steward/ledger")
        form = page.locator("#transfer")
        form.get_by_label("From member (number)").fill("1005")
        form.get_by_label("To member (number)").fill("1006")
        form.get_by_label("Hours").fill("2.5")
        form.get_by_label("What for").fill("Taught the welding workshop")
        form.get_by_label("Kind of service").fill("workshop")
        form.get_by_role("button", name="Enter transfer").click()
        expect(page.locator(".flash")).to_contain_text("1005 paid 1006 2.5 h")
        shoot(page, "steward-ledger.png")

    with signed_in(browser, url, PHONE) as phone:
        phone.goto(f"{url}/steward/ledger")
        expect(phone.locator("#transfers")).to_contain_text("Taught the welding workshop")
        shoot(phone, "steward-ledger-phone.png")
        phone.goto(f"{url}/steward/maintenance")
        shoot(phone, "steward-maintenance-phone.png")

    with reading(sqlite_engine) as session:
        paid = member_by_number(session, "1006")
        assert ledger.member_balance(session, paid.id) == Decimal("2.50")
