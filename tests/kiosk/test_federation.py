"""Many sheds, one network: kiosks on site brokers bridged to the network's broker, the hub on
the network's broker. A cut link and a killed site broker lose nothing and double nothing; a
suspension made while a site is cut off reaches it when the link returns. (Real Mosquitto
processes; the kiosks run in-process on mock pins.)"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlmodel import select

from broker.local import LocalBroker
from hub.infra.db import reading, transaction
from hub.inventory.fleet import SiteLink
from hub.inventory.registry import Locker, tool_by_code
from hub.loans.lending import Loan
from hub.members.ranks import OPERATOR
from hub.members.roster import member_for_card
from hub.members.standing import suspend_member
from hub.queries import fleet as fleet_rows
from hub.worker.inbox import InboxEvent
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.fixtures.waiting import wait_until
from tests.hub.builders import a_kiosk, a_member, a_tool
from tests.kiosk.builders import kiosk_settings
from tests.kiosk.harness import CARD, STEWARD_CARD, start_hub
from tests.kiosk.test_offline import cycle

pytestmark = pytest.mark.slow
SITES = {"north": ("north-1", "DRILL-1"), "south": ("south-1", "SAW-1")}


@pytest.fixture
def library(sqlite_engine):
    with transaction(sqlite_engine) as session:
        for site, (kiosk_id, tool) in SITES.items():
            a_kiosk(session, kiosk_id, slots=2, site=site)
            a_tool(session, tool, kiosk_id=kiosk_id, slot=1)
        a_member(session, "Ada Lovelace", uid=CARD)
        a_member(session, "Sam Steward", uid=STEWARD_CARD, roles="member,steward")
    return sqlite_engine


@pytest.fixture
def brokers(tmp_path) -> Iterator[dict[str, LocalBroker]]:
    central = LocalBroker(tmp_path / "central", kiosks=(), site="main")
    central.start()
    started = {"central": central}
    try:
        for site, (kiosk_id, _tool) in SITES.items():
            broker = LocalBroker(tmp_path / site, kiosks=(kiosk_id,), site=site, bridge_to=central)
            broker.start()
            started[site] = broker
        yield started
    finally:
        for broker in reversed(list(started.values())):
            broker.close()


@pytest.fixture
def stations(brokers, tmp_path) -> Iterator[dict[str, Station]]:
    running: dict[str, Station] = {}
    hardware = []
    try:
        for site, (kiosk_id, _tool) in SITES.items():
            broker = brokers[site]
            settings = kiosk_settings(tmp_path / kiosk_id, id=kiosk_id, site=site)
            mqtt = replace(
                settings.mqtt,
                host=broker.host,
                port=broker.port,
                password=broker.credentials[kiosk_id].password,
                reconnect_max_s=2,
            )
            simulated = SimulatedHardware(settings.lockers)
            hardware.append(simulated)
            running[site] = Station(
                replace(settings, mqtt=mqtt),
                reader=simulated.reader,
                pin_factory=simulated.factory,
                simulation=simulated,
            ).start()
        yield running
    finally:
        for station in running.values():
            station.stop()
        for simulated in hardware:
            simulated.close()


def seqs_of(engine, kiosk_id: str) -> list[int]:
    with reading(engine) as session:
        query = select(InboxEvent.seq).where(InboxEvent.kiosk_id == kiosk_id)
        return sorted(session.exec(query).all())


def settled(stations: dict[str, Station]) -> bool:
    return all(station.figures["backlog"] == 0 for station in stations.values())


def test_a_cut_link_and_a_killed_site_broker_lose_and_double_nothing(library, brokers, stations):
    hub = start_hub(library, brokers["central"])
    try:
        wait_until(lambda: all(all(s.versions) for s in stations.values()), 30, "allow-lists")
        for number in range(3):
            for station in stations.values():
                cycle(station, CARD if number % 2 else STEWARD_CARD)
        brokers["central"].stop()  # every site's link is down
        for _ in range(5):
            for station in stations.values():
                cycle(station, CARD)
        brokers["central"].start()
        brokers["south"].kill()  # south's box loses power: no last snapshot
        cycle(stations["north"], STEWARD_CARD)
        brokers["south"].start()
        cycle(stations["south"], STEWARD_CARD)
        wait_until(lambda: settled(stations), 90, "every outbox emptied")
        for site, (kiosk_id, _tool) in SITES.items():
            assert seqs_of(library, kiosk_id) == list(range(6 * 9)), site
        with reading(library) as session:
            loans = session.exec(select(Loan)).all()
        assert len(loans) == 18 and all(loan.returned_at for loan in loans)
    finally:
        hub.stop()


def test_a_suspension_made_while_a_site_is_cut_off_reaches_it_when_the_link_returns(
    library, brokers, stations
):
    hub = start_hub(library, brokers["central"])
    try:
        north = stations["north"]
        wait_until(lambda: all(north.versions), 30, "the allow-list at north")
        before = north.versions[0]
        brokers["central"].stop()
        with transaction(library) as session:
            ada = member_for_card(session, CARD)
            suspend_member(session, OPERATOR, ada.id, "tools not returned")
        brokers["central"].start()
        wait_until(lambda: north.versions[0] > before, 60, "the new allow-list at north")
        assert north.simulation.tap(CARD)
        north.submit(lambda s: None)  # the tap has been handled
        assert north.board.view["state"] == "refused", north.board.view
        assert "membership is paused" in north.board.view["message"]
    finally:
        hub.stop()


def test_the_hub_sees_a_site_cut_off_and_back(library, brokers, stations):
    hub = start_hub(library, brokers["central"])
    try:
        wait_until(lambda: link_of(library, "north") is True, 30, "north connected")
        brokers["north"].kill()  # the site's box or its link is gone: its bridge's will says 0
        wait_until(lambda: link_of(library, "north") is False, 60, "north seen cut off")
        with reading(library) as session:
            (north,) = [row for row in fleet_rows.sites(session) if row.site == "north"]
        assert (north.connected, north.kiosks) == (False, 1)
        with reading(library) as session:
            (kiosk,) = [h for h in fleet_rows.fleet_health(session) if h.kiosk.id == "north-1"]
        assert kiosk.site_cut_off_since is not None and not kiosk.online
        brokers["north"].start()
        wait_until(lambda: link_of(library, "north") is True, 60, "north connected again")
    finally:
        hub.stop()


def link_of(engine, site: str) -> bool | None:
    with reading(engine) as session:
        link = session.get(SiteLink, site)
        return None if link is None else link.connected


def test_a_tool_borrowed_at_one_site_goes_back_at_another(library, brokers, stations):
    """One network: Ada borrows north's drill and returns it at south, into south's empty
    locker, which becomes the drill's home."""
    hub = start_hub(library, brokers["central"])
    try:
        north, south = stations["north"], stations["south"]
        wait_until(lambda: all(north.versions) and all(south.versions), 30, "allow-lists")
        assert north.simulation.tap(CARD)
        north.submit(lambda s: s.borrow(1))
        north.simulation.set_door(1, True)
        north.simulation.set_door(1, False)
        wait_until(lambda: _holds(south, CARD, "DRILL-1"), 30, "south hearing of Ada's loan")
        assert south.simulation.tap(CARD)
        south.submit(lambda s: s.return_tool(2, "ok", tool_code="DRILL-1"))
        assert south.board.view["state"] == "open", south.board.view
        south.simulation.set_door(2, True)
        south.simulation.set_door(2, False)
        wait_until(lambda: settled(stations), 60, "both outboxes emptied")
        wait_until(lambda: _home_of(library, "DRILL-1") == ("south-1", 2), 30, "drill rehomed")
        with reading(library) as session:
            (loan,) = session.exec(select(Loan)).all()
        assert loan.returned_at is not None
    finally:
        hub.stop()


def _holds(station: Station, card: str, tool: str) -> bool:
    allowlist = station.submit(lambda session: session.store.allowlist)
    entry = allowlist.entries.get(card) if allowlist else None
    return entry is not None and tool in entry.loans


def _home_of(engine, tool_code: str) -> tuple[str, int] | None:
    with reading(engine) as session:
        tool = tool_by_code(session, tool_code)
        locker = session.get(Locker, tool.locker_id) if tool.locker_id else None
        return None if locker is None else (locker.kiosk_id, locker.slot)
