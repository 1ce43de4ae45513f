"""The allow-list store: persisted, reloaded after a restart, replaced only by newer versions."""

from __future__ import annotations

import json

from broker import messages as wire
from kiosk.allowlist import AllowListStore
from kiosk.storage import open_database
from tests.kiosk.builders import ADA, a_config, an_allowlist


def open_store(path) -> tuple:
    db = open_database(path, "")
    store = AllowListStore(db, "kiosk-a")
    store.load()
    return db, store


def test_a_restarted_kiosk_decides_from_what_it_stored(tmp_path):
    db, store = open_store(tmp_path / "kiosk.db")
    assert store.offer("allowlist", wire.encode(an_allowlist(3)))
    assert store.offer("config", wire.encode(a_config(2)))
    db.close()
    db, again = open_store(tmp_path / "kiosk.db")
    assert again.versions == (3, 2)
    assert again.allowlist.entries[ADA].name == "Ada Lovelace"
    assert again.out_of_service == frozenset({"SAW-2"})
    db.close()


def test_only_a_newer_version_replaces_the_one_held(tmp_path):
    db, store = open_store(tmp_path / "kiosk.db")
    assert store.offer("allowlist", wire.encode(an_allowlist(5)))
    assert not store.offer("allowlist", wire.encode(an_allowlist(4, out_of_service=())))
    assert not store.offer("allowlist", wire.encode(an_allowlist(5, out_of_service=())))
    assert store.out_of_service == {"SAW-2"}
    assert store.offer("allowlist", wire.encode(an_allowlist(6, out_of_service=())))
    assert store.out_of_service == frozenset() and store.versions[0] == 6
    db.close()


def test_a_tampered_allowlist_or_another_kiosks_config_is_refused(tmp_path):
    db, store = open_store(tmp_path / "kiosk.db")
    data = json.loads(wire.encode(an_allowlist(9)))
    data["entries"][ADA]["status"] = "suspended"  # the content hash no longer matches
    assert not store.offer("allowlist", json.dumps(data).encode())
    assert not store.offer("config", wire.encode(a_config(1, kiosk_id="kiosk-b")))
    assert store.versions == (None, None)
    db.close()
