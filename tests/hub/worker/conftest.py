"""The small world the worker tests share: two kiosks at site 'test', a member, a drill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from hub.infra.db import transaction
from hub.worker.loop import IngestWorker
from tests.hub.builders import a_kiosk, a_member, a_tool
from tests.hub.worker.world import CARD


@pytest.fixture
def library(engine: Engine) -> Engine:
    """kiosk-a and kiosk-b at site 'test', a member with a card, a drill in kiosk-a's locker 1."""
    with transaction(engine) as session:
        a_kiosk(session, "kiosk-a", slots=2, site="test")
        a_kiosk(session, "kiosk-b", slots=2, site="test")
        a_member(session, "Ada Lovelace", uid=CARD)
        a_tool(session, "DRILL-1", kiosk_id="kiosk-a", slot=1)
    return engine


@pytest.fixture
def worker(library: Engine, mosquitto) -> Iterator[IngestWorker]:
    """Run an ingest worker against the test broker for the test's length."""
    hub = mosquitto.credentials["hub"]
    running = IngestWorker(
        library,
        host=mosquitto.host,
        port=mosquitto.port,
        username=hub.username,
        password=hub.password,
        publish_interval=0.05,
    ).start()
    yield running
    running.stop()
