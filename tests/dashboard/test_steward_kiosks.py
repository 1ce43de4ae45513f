"""The kiosk pages' doors: register a kiosk, rename it, add and remove lockers, provision its
broker login (shown once, never cached, with a setup sheet) and revoke it; each audited."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from broker.dynsec import PasswordHash, find_client, read_config
from broker.provision import broker_paths
from hub.infra.audit import AuditEntry
from hub.infra.db import reading
from hub.inventory.registry import Kiosk, get_kiosk, lockers_of
from hub.members.roster import member_by_number
from tests.dashboard.conftest import csrf_token, sign_in_by_session


@pytest.fixture
def post(steward):
    """Return a function that posts a form as steward 1001, CSRF token included."""
    token = csrf_token(steward, "/steward/kiosks")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def kiosk_audit(engine) -> list[AuditEntry]:
    with reading(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id))
        return [e for e in rows if e.action.startswith(("kiosk.", "locker."))]


def marked_wrong(page: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    return tag is not None and 'aria-invalid="true"' in tag.group(0)


def test_register_a_kiosk_with_its_lockers(post, steward, engine):
    assert 'href="/steward/new-kiosk"' in steward.get("/steward/kiosks").get_data(as_text=True)
    answer = post("/steward/kiosks", kiosk_id="shed-3", site="south", name="Garden", slots="4")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/steward/kiosks/shed-3")
    page = steward.get("/steward/kiosks/shed-3").get_data(as_text=True)
    assert "not provisioned" in page and page.count("Locker <strong>") == 4
    with reading(engine) as session:
        steward_id = member_by_number(session, "1001").id
        assert [locker.slot for locker in lockers_of(session, "shed-3")] == [1, 2, 3, 4]
    actions = kiosk_audit(engine)
    assert [e.action for e in actions] == ["kiosk.register"] + ["locker.add"] * 4
    assert {e.actor_member_id for e in actions} == {steward_id}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"kiosk_id": "shed-1"}, "kiosk_id"),  # taken
        ({"kiosk_id": "Shed 3"}, "kiosk_id"),
        ({"site": "hub"}, "site"),
        ({"name": ""}, "name"),
        ({"slots": "lots"}, "slots"),
    ],
)
def test_a_refused_kiosk_comes_back_as_typed_naming_the_field(post, engine, form, field):
    typed = {"kiosk_id": "shed-3", "site": "south", "name": "Garden shed", "slots": "4"} | form
    answer = post("/steward/kiosks", **typed)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert marked_wrong(page, field), page
    assert f'value="{typed["site"]}"' in page and f'value="{typed["kiosk_id"]}"' in page
    with reading(engine) as session:
        assert session.get(Kiosk, "shed-3") is None
    assert kiosk_audit(engine) == []


def test_rename_and_lockers_from_the_kiosk_page(post, steward, engine):
    assert post("/steward/kiosks/shed-1/rename", name="North wall").status_code == 302
    assert post("/steward/kiosks/shed-1/lockers", slots="9-10, 12").status_code == 302
    page = steward.get("/steward/kiosks/shed-1").get_data(as_text=True)
    assert 'data-confirm="Remove empty locker 12 from shed-1?"' in page
    assert post("/steward/kiosks/shed-1/lockers/12/remove").status_code == 302
    taken = post("/steward/kiosks/shed-1/lockers", slots="10-11")
    assert taken.status_code == 422 and "already has locker 10" in taken.get_data(as_text=True)
    assert 'value="10-11"' in taken.get_data(as_text=True)
    full = post("/steward/kiosks/shed-1/lockers/1/remove")
    assert full.status_code == 409
    with reading(engine) as session:
        assert get_kiosk(session, "shed-1").name == "North wall"
        assert [locker.slot for locker in lockers_of(session, "shed-1")][-2:] == [9, 10]
    assert [e.action for e in kiosk_audit(engine)] == [
        "kiosk.rename", "locker.add", "locker.add", "locker.add", "locker.remove"
    ]  # fmt: skip


def test_provision_shows_the_login_once_and_revoke_removes_it(post, steward, app, engine):
    app.config.update(MQTT_HOST="hub.example.org", MQTT_PORT=8883)
    answer = post("/steward/kiosks/shed-2/provision")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code id="kiosk-password">([^<]+)</code>', page).group(1)
    dynsec = broker_paths(app.config["DATA_DIR"]).dynsec
    assert PasswordHash.from_client(find_client(read_config(dynsec), "shed-2")).matches(password)
    assert "hub.example.org" in page and "<code>8883</code>" in page
    assert 'data-copy="kiosk-password"' in page and "print.css" in page
    assert "<script>" not in page and "onclick" not in page  # the CSP allows /static only
    kiosk_page = steward.get("/steward/kiosks/shed-2").get_data(as_text=True)
    assert password not in kiosk_page and "provisioned</span>" in kiosk_page
    assert 'data-confirm="Revoke kiosk shed-2' in kiosk_page
    assert post("/steward/kiosks/shed-2/revoke", reason="SD card lost").status_code == 302
    assert find_client(read_config(dynsec), "shed-2") is None
    assert "revoked</span>" in steward.get("/steward/kiosks/shed-2").get_data(as_text=True)
    audit = kiosk_audit(engine)
    assert [e.action for e in audit] == ["kiosk.provision", "kiosk.revoke"]
    assert all(password not in (e.after or "") for e in audit)
    assert '"reason": "SD card lost"' in audit[-1].after


def test_a_volunteer_cannot_provision(client, engine, app):
    sign_in_by_session(client, "1004")
    answer = client.post(
        "/steward/kiosks/shed-2/provision", data={"csrf_token": csrf_token(client, "/")}
    )
    assert answer.status_code == 403
    assert kiosk_audit(engine) == []


def a_dead_letter(engine, payload: bytes) -> int:
    """Keep a dead letter of shed-1's events topic, as the ingest does, and return its id."""
    from broker.topics import kiosk_topic
    from hub.infra.db import transaction
    from hub.worker.inbox import record_dead_letter

    with transaction(engine) as session:
        topic = kiosk_topic("north", "shed-1", "events")
        letter = record_dead_letter(
            session, topic=topic, payload=payload, reason="the hub could not apply it"
        )
        session.flush()
        return letter.id


def door_opened_payload() -> bytes:
    from datetime import UTC, datetime

    from broker import messages as wire

    door = wire.DoorOpenedEvent(
        event_id=wire.new_message_id(),
        kiosk_id="shed-1",
        seq=1,
        kiosk_time=datetime.now(UTC),
        body=wire.DoorChange(locker_slot=1),
    )
    return wire.encode(door)


def test_a_steward_applies_a_dead_letter_again_and_sets_one_aside(steward, post, engine):
    from hub.worker.inbox import DeadLetter, InboxEvent

    event_letter, garbled = (
        a_dead_letter(engine, door_opened_payload()),
        a_dead_letter(engine, b"{"),
    )
    page = steward.get("/steward/kiosks").get_data(as_text=True)
    assert f'id="letter-{event_letter}"' in page and "Apply again" in page

    done = post(f"/steward/dead-letters/{event_letter}/apply", next="/steward/kiosks")
    assert done.status_code == 302
    refused = post(f"/steward/dead-letters/{garbled}/apply", next="/steward/kiosks")
    assert refused.status_code == 422 and "cannot read" in refused.get_data(as_text=True)
    blank = post(f"/steward/dead-letters/{garbled}/set-aside", note=" ", next="/steward/kiosks")
    assert blank.status_code == 422 and "note" in blank.get_data(as_text=True)
    aside = post(f"/steward/dead-letters/{garbled}/set-aside", note="bench noise")
    assert aside.status_code == 302
    with reading(engine) as session:
        assert session.get(DeadLetter, event_letter).settlement == "applied again (applied)"
        assert session.get(DeadLetter, garbled).settlement == "set aside: bench noise"
        assert len(session.exec(select(InboxEvent)).all()) == 1
        actions = [e.action for e in session.exec(select(AuditEntry)) if "dead_letter" in e.action]
    assert actions == ["dead_letter.apply_again", "dead_letter.set_aside"]
    page = steward.get("/steward/kiosks").get_data(as_text=True)
    assert "set aside: bench noise" in page and "Apply again" not in page
