"""bench/network_bench.py at a tiny size (2 sites x 2 kiosks, 1 worker, a few hundred events):
the whole run goes through (baseline, day, partition, suspensions) and the hub's database has
every event the kiosks' outboxes numbered, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.database import PG_ADMIN_URL

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "network_bench.py"


def test_a_tiny_network_loses_and_doubles_nothing(tmp_path):
    figures = tmp_path / "figures.json"
    command = [sys.executable, str(SCRIPT), "--sites", "2", "--kiosks", "2", "--events", "300"]
    command += ["--workers", "1", "--members", "20", "--cut", "1", "--partition-seconds", "2"]
    command += ["--rounds", "1", "--kiosk-processes", "1", "--pg-url", PG_ADMIN_URL]
    finished = subprocess.run(
        [*command, "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    (run,) = json.loads(figures.read_text())
    assert run["workers"] == 1
    assert run["events"] >= 250 and run["partition_events"] >= 4
    assert (run["lost"], run["doubled"]) == (0, 0)
    assert run["committed_rate"] > 0 and run["baseline"] > 0
