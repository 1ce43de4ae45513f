def test_tool_library_is_open_to_everyone(client):
    page = client.get("/").get_data(as_text=True)
    assert "DRILL-1" in page and "out of service" in page and "Pad worn through" in page


def test_tool_history_shows_member_numbers_not_names(client):
    page = client.get("/tools/DRILL-1").get_data(as_text=True)
    assert "DRILL-1" in page and "Loans" in page
    assert "Okafor" not in page


def test_unknown_tool_is_a_clear_404(client):
    response = client.get("/tools/NOPE-9")
    assert response.status_code == 404
    assert "Tool NOPE-9 does not exist." in response.get_data(as_text=True)
    api = client.get("/tools/NOPE-9", headers={"Accept": "application/json"})
    assert api.json == {"error": "Tool NOPE-9 does not exist.", "field": "tool_code"}


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/", data={})
    assert response.status_code in (400, 405)


def test_the_open_ledger_shows_balances_by_number_and_first_name(client, app):
    from dashboard.database import transaction
    from hub.members.roster import member_by_number
    from hub.timebank.ledger import credit_from_pool

    with app.app_context(), transaction() as db:
        fixer = member_by_number(db, "1005")
        credit_from_pool(
            db,
            key="test-credit",
            member_id=fixer.id,
            hours="1.50",
            description="Fixed the mower",
            created_by=1,
        )
    page = client.get("/ledger").get_data(as_text=True)
    assert "1005 Kofi" in page and "Nakamura" not in page
    assert "Community pool" in page and "Fixed the mower" in page
    assert "1.50" in page and "-1.50" in page
    assert "<strong>0.00</strong>" in page


def test_the_open_ledger_shows_an_exchange_between_members_without_who(client, app):
    from dashboard.database import transaction
    from hub.members.roster import member_by_number
    from hub.timebank.ledger import exchange_hours

    with app.app_context(), transaction() as db:
        kofi, other = member_by_number(db, "1005"), member_by_number(db, "1003")
        exchange_hours(
            db,
            key="test-exchange",
            payer_id=other.id,
            payee_id=kofi.id,
            hours="2.00",
            description="Kofi fixed my bike gears",
            category="bike repair",
        )
        other_name = other.name.split()[0]
    page = client.get("/ledger").get_data(as_text=True)
    transfers = page[page.index("Latest transfers") :]
    assert "a member → a member" in transfers and "An exchange: bike repair" in transfers
    assert "Kofi" not in transfers and other_name not in transfers
    assert "bike gears" not in transfers and "2.00" in transfers
