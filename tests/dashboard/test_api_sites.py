"""The sites' API operations: add, rename, policy, members allowed and taken off, each audited
by the hub's service, each refusal naming its field; and a site bridge provisioned through the
API logs in to a real Mosquitto until it is revoked."""

from __future__ import annotations

import json
import threading

import pytest
from sqlmodel import select

from broker.client import ConnectRefused
from hub.infra.audit import AuditEntry
from hub.infra.db import reading
from hub.inventory.sites import Site
from tests.dashboard import api_fixtures as fixtures
from tests.fixtures.waiting import wait_until

api_world, bearer = fixtures.api_world, fixtures.bearer
NOT_AUTHORIZED = 135


def site_audit(engine) -> list[AuditEntry]:
    with reading(engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        return [e for e in session.exec(query) if e.action.startswith("site.")]


def refused(answer, status: int, field: str) -> None:
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["field"] == field, answer.get_json()


def test_add_a_site_list_it_and_change_who_may_borrow_audited(client, engine, bearer, api_world):
    new = {"site_id": "east", "name": "East shed", "policy": "listed"}
    answer = client.post("/api/v1/sites", json=new, headers=bearer)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() | {"created_at": None} == {
        "id": "east", "name": "East shed", "policy": "listed", "created_at": None,
        "bridge_provisioned_at": None, "bridge_revoked_at": None, "link": None,
        "kiosks": [], "members": [], "cards": 3,  # the demo's stewards: they always pass
    }  # fmt: skip
    refused(client.post("/api/v1/sites", json=new, headers=bearer), 409, "site_id")
    listed = client.get("/api/v1/sites", headers=bearer).get_json()["sites"]
    assert "east" in [s["id"] for s in listed] and any(s["kiosks"] for s in listed)
    url = "/api/v1/sites/east/members"
    answer = client.post(url, json={"number": "1005"}, headers=bearer)
    assert answer.status_code == 201 and answer.get_json()["members"][0]["number"] == "1005"
    assert answer.get_json()["cards"] == 4
    refused(client.post(url, json={"number": "1005"}, headers=bearer), 409, "number")
    refused(client.post(url, json={"number": "99999"}, headers=bearer), 404, "number")
    answer = client.delete(f"{url}/1005", headers=bearer)
    assert answer.status_code == 200 and answer.get_json()["members"] == []
    refused(client.delete(f"{url}/1005", headers=bearer), 404, "number")
    answer = client.post("/api/v1/sites/east/policy", json={"policy": "everyone"}, headers=bearer)
    assert answer.get_json()["policy"] == "everyone"
    answer = client.patch("/api/v1/sites/east", json={"name": "East barn"}, headers=bearer)
    assert answer.get_json()["name"] == "East barn"
    refused(client.get("/api/v1/sites/west", headers=bearer), 404, "site_id")
    actions = [e.action for e in site_audit(engine)]
    assert actions == [
        "site.add", "site.allow", "site.disallow", "site.policy", "site.rename"
    ]  # fmt: skip
    assert {e.actor_member_id for e in site_audit(engine)} == {api_world.steward_id}


def test_a_bad_site_is_refused_422_naming_the_field(client, bearer, api_world):
    for body, field in (
        ({"site_id": "hub", "name": "Hub"}, "site_id"),
        ({"site_id": "east", "name": " "}, "name"),
        ({"site_id": "east", "name": "East", "policy": "some"}, "policy"),
    ):
        answer = client.post("/api/v1/sites", json=body, headers=bearer)
        assert answer.status_code == 422, answer.get_json()
        assert field in json.dumps(answer.get_json())


def test_the_openapi_document_lists_the_site_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/sites"].keys() >= {"get", "post"}
    assert paths["/api/v1/sites/{site_id}"].keys() >= {"get", "patch"}
    for path in ("policy", "members", "provision", "revoke"):
        assert "post" in paths[f"/api/v1/sites/{{site_id}}/{path}"]
        responses = paths[f"/api/v1/sites/{{site_id}}/{path}"]["post"]["responses"]
        assert responses.keys() >= {"400", "404", "409", "422"}
    assert "delete" in paths["/api/v1/sites/{site_id}/members/{number}"]


def test_a_site_bridge_provisioned_by_the_api_logs_in_until_revoked(
    app, client, engine, bearer, api_world, mosquitto
):
    app.config.update(
        BROKER_DATA_DIR=str(mosquitto.data_dir), MQTT_HOST=mosquitto.host, MQTT_PORT=mosquitto.port
    )
    new = {"site_id": "east", "name": "East shed"}
    assert client.post("/api/v1/sites", json=new, headers=bearer).status_code == 201
    answer = client.post("/api/v1/sites/east/provision", json={}, headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    login = answer.get_json()
    assert (login["host"], login["port"], login["username"]) == (
        mosquitto.host, mosquitto.port, "site-east"
    )  # fmt: skip
    assert any("join-network east" in line for line in login["commands"])
    bridge = mosquitto.connect(
        login["username"], password=login["password"], client_id=login["client_id"]
    )
    dropped = threading.Event()
    bridge.on_disconnect = lambda *_args: dropped.set()
    state = bridge.publish("commonshed/v1/east/bridge/state", b"1", qos=1)
    state.wait_for_publish(5)
    assert state.is_published()

    revoked = client.post(
        "/api/v1/sites/east/revoke", json={"reason": "box stolen"}, headers=bearer
    )
    assert revoked.status_code == 200 and revoked.get_json()["bridge_revoked_at"] is not None
    wait_until(dropped.is_set, 5, "the revoked bridge to be disconnected")
    with pytest.raises(ConnectRefused) as refusal:
        mosquitto.connect(login["username"], password=login["password"], client_id="site-east")
    assert refusal.value.reason_code.value == NOT_AUTHORIZED
    actions = [(e.action, e.after) for e in site_audit(engine)]
    assert [a for a, _ in actions] == ["site.add", "site.provision", "site.revoke"]
    assert all(login["password"] not in (after or "") for _, after in actions)
    with reading(engine) as session:
        assert session.get(Site, "east").bridge_revoked_at is not None
