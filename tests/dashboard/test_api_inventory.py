"""The inventory's API operations: tools and kiosks added, changed, provisioned and revoked;
each audited by the hub's service, each refusal naming its field; and a kiosk provisioned
through the API logs in to a real Mosquitto until it is revoked."""

from __future__ import annotations

import json
import threading

import pytest
from sqlmodel import select

from broker.client import ConnectRefused
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.registry import Kiosk, Tool, tool_by_code
from hub.loans.lending import lend_tool
from hub.members import tokens
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from tests.dashboard import api_fixtures as fixtures
from tests.fixtures.waiting import wait_until

api_world, bearer = fixtures.api_world, fixtures.bearer
NOT_AUTHORIZED = 135


def inventory_audit(engine) -> list[AuditEntry]:
    """Return the audit entries of kiosks, lockers and tools, in order."""
    with reading(engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        kinds = ("tool.", "kiosk.", "locker.")
        return [e for e in session.exec(query) if e.action.startswith(kinds)]


def refused(answer, status: int, field: str) -> None:
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["field"] == field, answer.get_json()


NEW_TOOL = {"code": "rake-1", "name": "Garden rake", "category": "Garden"}


def test_add_a_tool_201_audited_as_the_steward(client, engine, bearer, api_world):
    answer = client.post(
        "/api/v1/tools",
        json=NEW_TOOL | {"training": "ladder", "notes": "Tines bent", "loan_days": 3},
        headers=bearer,
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body | {"id": 0} == {
        "id": 0, "code": "RAKE-1", "name": "Garden rake", "category": "garden",
        "status": "available", "status_reason": None, "kiosk_id": None, "slot": None,
        "training": "ladder", "loan_days": 3, "notes": "Tines bent",
    }  # fmt: skip
    (entry,) = inventory_audit(engine)
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "tool.add", "tool:RAKE-1", api_world.steward_id
    )  # fmt: skip


def test_a_duplicate_code_is_409_naming_code(client, engine, bearer, api_world):
    refused(
        client.post("/api/v1/tools", json=NEW_TOOL | {"code": "drill-1"}, headers=bearer),
        409,
        "code",
    )
    assert inventory_audit(engine) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (NEW_TOOL | {"name": "   "}, "name"),
        (NEW_TOOL | {"code": "no spaces"}, "code"),
        (NEW_TOOL | {"loan_days": 0}, "loan_days"),
        (NEW_TOOL | {"colour": "red"}, "colour"),
        ({"name": "x", "category": "y"}, "code"),
    ],
)
def test_a_malformed_tool_is_422_naming_the_field(client, bearer, api_world, body, field):
    refused(client.post("/api/v1/tools", json=body, headers=bearer), 422, field)


def test_a_home_locker_that_does_not_exist_is_404_naming_it(client, bearer, api_world):
    answer = client.post(
        "/api/v1/tools", json=NEW_TOOL | {"kiosk_id": "shed-1", "slot": 99}, headers=bearer
    )
    refused(answer, 404, "slot")


def test_a_volunteer_is_refused_and_nothing_is_written(client, engine, api_world):
    with transaction(engine) as session:
        volunteer = member_by_number(session, "1004")
        token = tokens.issue_token(session, OPERATOR, volunteer.id, "mine", scope="member")
    answer = client.post(
        "/api/v1/tools", json=NEW_TOOL, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403
    with reading(engine) as session:
        assert session.exec(select(Tool).where(Tool.code == "RAKE-1")).first() is None


def test_edit_changes_only_the_fields_sent(client, engine, bearer, api_world):
    url = f"/api/v1/tools/{api_world.tool_id}"
    answer = client.patch(url, json={"notes": "Chuck key on a string"}, headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["notes"] == "Chuck key on a string"
    assert answer.get_json()["name"] == "Hammer drill"
    answer = client.patch(url, json={"training": "router", "notes": None}, headers=bearer)
    assert (answer.get_json()["training"], answer.get_json()["notes"]) == ("router", None)
    refused(client.patch(url, json={"training": "juggling"}, headers=bearer), 404, "training")
    assert [e.action for e in inventory_audit(engine)] == ["tool.edit", "tool.edit"]


def test_move_to_a_free_locker_and_refusals_naming_the_slot(client, engine, bearer, api_world):
    client.post("/api/v1/kiosks/shed-1/lockers", json={"slots": [9]}, headers=bearer)
    url = f"/api/v1/tools/{api_world.tool_id}/move"
    refused(client.post(url, json={"kiosk_id": "shed-1", "slot": 1}, headers=bearer), 409, "slot")
    refused(client.post(url, json={"kiosk_id": "shed-1", "slot": 10}, headers=bearer), 404, "slot")
    refused(
        client.post(url, json={"kiosk_id": "shed-7", "slot": 1}, headers=bearer), 404, "kiosk_id"
    )
    answer = client.post(url, json={"kiosk_id": "shed-1", "slot": 9}, headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["kiosk_id"], answer.get_json()["slot"]) == ("shed-1", 9)
    assert [e.action for e in inventory_audit(engine)] == ["locker.add", "tool.move"]


def test_retire_and_a_tool_on_loan_is_409(client, engine, bearer, api_world):
    with transaction(engine) as session:
        tent = tool_by_code(session, "TENT-1")
        if tent.status != "on_loan":
            lend_tool(session, tool_id=tent.id, member_id=api_world.fixer_id)
        tent_id = tent.id
    answer = client.post(f"/api/v1/tools/{tent_id}/retire", json={"reason": "torn"}, headers=bearer)
    refused(answer, 409, "tool_id")
    with reading(engine) as session:
        (available, *_) = session.exec(select(Tool.id).where(Tool.status == "available")).all()
    url = f"/api/v1/tools/{available}/retire"
    refused(client.post(url, json={"reason": " "}, headers=bearer), 422, "reason")
    answer = client.post(url, json={"reason": "motor burnt out"}, headers=bearer)
    assert answer.status_code == 200
    retired = answer.get_json()
    assert (retired["status"], retired["status_reason"]) == ("retired", "motor burnt out")
    assert (retired["kiosk_id"], retired["slot"]) == (None, None)
    (entry,) = inventory_audit(engine)
    assert entry.action == "tool.retire" and json.loads(entry.after)["status"] == "retired"


def test_register_rename_and_add_lockers_to_a_kiosk(client, engine, bearer, api_world):
    new = {"kiosk_id": "shed-3", "site": "north", "name": "Garden shed", "slots": 2}
    answer = client.post("/api/v1/kiosks", json=new, headers=bearer)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["slots"] == [1, 2] and answer.get_json()["provisioned_at"] is None
    refused(client.post("/api/v1/kiosks", json=new, headers=bearer), 409, "kiosk_id")
    refused(
        client.post("/api/v1/kiosks", json=new | {"kiosk_id": "hub"}, headers=bearer),
        422,
        "kiosk_id",
    )
    answer = client.patch("/api/v1/kiosks/shed-3", json={"name": "Garden"}, headers=bearer)
    assert answer.get_json()["name"] == "Garden"
    url = "/api/v1/kiosks/shed-3/lockers"
    answer = client.post(url, json={"slots": [3, 4], "label": "tall"}, headers=bearer)
    assert answer.status_code == 201 and answer.get_json()["slots"] == [1, 2, 3, 4]
    refused(client.post(url, json={"slots": [4, 5]}, headers=bearer), 409, "slot")
    refused(client.post(url, json={"slots": []}, headers=bearer), 422, "slots")
    missing = client.post("/api/v1/kiosks/shed-8/lockers", json={"slots": [1]}, headers=bearer)
    refused(missing, 404, "kiosk_id")
    assert [e.action for e in inventory_audit(engine)] == [
        "kiosk.register", "locker.add", "locker.add", "kiosk.rename", "locker.add", "locker.add"
    ]  # fmt: skip


def test_the_openapi_document_lists_the_inventory_writes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/tools"]["post"]["responses"].keys() >= {"201", "409", "422"}
    assert "patch" in paths["/api/v1/tools/{tool_id}"]
    for path in ("move", "retire"):
        assert "post" in paths[f"/api/v1/tools/{{tool_id}}/{path}"]
    assert "post" in paths["/api/v1/kiosks"] and "patch" in paths["/api/v1/kiosks/{kiosk_id}"]
    for path in ("provision", "revoke", "lockers"):
        assert "post" in paths[f"/api/v1/kiosks/{{kiosk_id}}/{path}"]


def test_a_kiosk_provisioned_by_the_api_logs_in_until_revoked(
    app, client, engine, bearer, api_world, mosquitto
):
    app.config.update(
        BROKER_DATA_DIR=str(mosquitto.data_dir), MQTT_HOST=mosquitto.host, MQTT_PORT=mosquitto.port
    )
    new = {"kiosk_id": "shed-9", "site": mosquitto.site, "name": "Far shed", "slots": 1}
    assert client.post("/api/v1/kiosks", json=new, headers=bearer).status_code == 201
    answer = client.post("/api/v1/kiosks/shed-9/provision", headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    login = answer.get_json()
    assert (login["host"], login["port"]) == (mosquitto.host, mosquitto.port)
    kiosk = mosquitto.connect(
        login["username"], password=login["password"], client_id=login["client_id"]
    )
    dropped = threading.Event()
    kiosk.on_disconnect = lambda *_args: dropped.set()
    published = kiosk.publish(mosquitto.topic("shed-9", "status"), b"{}", qos=1)
    published.wait_for_publish(5)
    assert published.is_published()

    revoked = client.post(
        "/api/v1/kiosks/shed-9/revoke", json={"reason": "SD card stolen"}, headers=bearer
    )
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    wait_until(dropped.is_set, 5, "the revoked kiosk to be disconnected")
    with pytest.raises(ConnectRefused) as refusal:
        mosquitto.connect(login["username"], password=login["password"], client_id="shed-9")
    assert refusal.value.reason_code.value == NOT_AUTHORIZED
    actions = [(e.action, e.after) for e in inventory_audit(engine)]
    assert [a for a, _ in actions] == [
        "kiosk.register", "locker.add", "kiosk.provision", "kiosk.revoke"
    ]  # fmt: skip
    assert all(login["password"] not in (after or "") for _, after in actions)
    assert json.loads(actions[-1][1])["reason"] == "SD card stolen"
    with reading(engine) as session:
        assert session.get(Kiosk, "shed-9").revoked_at is not None


def test_rename_a_category_audited_and_an_unknown_one_is_404(client, engine, bearer, api_world):
    url = "/api/v1/categories/rename"
    answer = client.post(url, json={"category": "Garden", "new_name": "Outdoors"}, headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    moved = answer.get_json()
    assert moved["category"] == "outdoors" and moved["tools"] >= 2  # the pruner and the mower
    with reading(engine) as session:
        assert tool_by_code(session, "MOWER-1").category == "outdoors"
        (entry,) = session.exec(select(AuditEntry).where(AuditEntry.action == "category.rename"))
    assert entry.actor_member_id == api_world.steward_id
    missing = client.post(url, json={"category": "garden", "new_name": "x"}, headers=bearer)
    refused(missing, 404, "category")
