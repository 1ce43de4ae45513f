"""Safe by default: the real `commonshed up` will not serve the published demo steward password
to the network, and the real `commonshed hub serve` believes only the proxies it is told of."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from broker.runner import free_port
from commonshed.up import is_loopback
from hub.bulk.demo import DEMO_STEWARD_PASSWORD
from tests.commonshed.test_up import _two_free_ports, _wait_for_url
from tests.fixtures.waiting import wait_until

COMMONSHED = [sys.executable, "-m", "commonshed"]


@pytest.fixture
def database_content() -> str:
    return "demo"  # the published demo password, for `hub serve`


ENV = os.environ | {"PYTHONUNBUFFERED": "1"}


def up_command(data: Path, *options: str) -> list[str]:
    ports = ["--web-port", str(free_port()), "--mqtt-port", str(free_port())]
    return [*COMMONSHED, "up", "--data-dir", str(data), *ports, *options]


def test_up_refuses_a_network_host_while_the_demo_password_works(tmp_path):
    command = up_command(tmp_path / "data", "--host", "0.0.0.0", "--kiosk-port", str(free_port()))
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV
    )
    try:
        output, _ = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        pytest.fail("`up --host 0.0.0.0` started with the demo password:\n" + output[-2000:])
    assert process.returncode == 2, output[-2000:]
    assert "Refusing --host 0.0.0.0" in output and DEMO_STEWARD_PASSWORD in output
    assert "--i-know-this-is-a-demo" in output and "set-password" in output
    assert "Commonshed is running" not in output


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("shed.example.org", False),
    ],
)
def test_only_loopback_hosts_count_as_local(host, loopback):
    assert is_loopback(host) is loopback


def test_up_with_i_know_this_is_a_demo_serves_the_network(tmp_path):
    web = free_port()
    command = [
        *COMMONSHED,
        "up",
        "--data-dir",
        str(tmp_path / "data"),
        "--host",
        "0.0.0.0",
        "--i-know-this-is-a-demo",
        "--web-port",
        str(web),
        "--mqtt-port",
        str(free_port()),
        "--kiosk-port",
        str(_two_free_ports()),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV
    )
    said = drain(process)
    try:
        wait_until(lambda: "Commonshed is running" in "".join(said), 240, "the banner")
        _wait_for_url(f"http://127.0.0.1:{web}/signin", timeout=180)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- up said:\n{''.join(said)[-3000:]}") from None
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, "".join(said)[-3000:]


def drain(process: subprocess.Popen) -> list[str]:
    """Read all that ``process`` prints, in a thread, so its pipe never fills; return the lines.

    NOTE: a full pipe would block every thread of `up` that logs, the web server's included.
    """
    lines: list[str] = []

    def read() -> None:
        with process.stdout:
            lines.extend(process.stdout)

    threading.Thread(target=read, daemon=True).start()
    return lines


# --- hub serve behind a proxy ---------------------------------------------------------------


@contextmanager
def serving(database_url: str, *options: str) -> Iterator[str]:
    """Run the real `commonshed hub serve` on a free port; yield its URL."""
    port = free_port()
    command = [
        *COMMONSHED,
        "hub",
        "--database-url",
        database_url,
        "serve",
        "--port",
        str(port),
        *options,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=ENV
    )
    try:
        _wait_for_url(f"http://127.0.0.1:{port}/signin")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def sign_in(web: str, password: str, forwarded_for: str) -> int:
    """Sign in as 1001 through the form, as a client the proxy says is ``forwarded_for``."""
    with requests.Session() as browser:
        headers = {"X-Forwarded-For": forwarded_for}
        page = browser.get(f"{web}/signin", headers=headers, timeout=30).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        answer = browser.post(
            f"{web}/signin",
            data={"number": "1001", "password": password, "csrf_token": token},
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
        return answer.status_code


def test_behind_a_trusted_proxy_one_attacker_does_not_slow_everyone(sqlite_engine):
    with serving(str(sqlite_engine.url), "--trusted-proxies", "1") as web:
        answers = [sign_in(web, "wrong", "198.51.100.66") for _ in range(12)]
        assert answers[-1] == 429
        assert sign_in(web, DEMO_STEWARD_PASSWORD, "203.0.113.10") == 302


def test_without_trusted_proxies_a_forged_forwarded_for_buys_nothing(sqlite_engine):
    with serving(str(sqlite_engine.url)) as web:
        answers = [sign_in(web, "wrong", f"192.0.2.{n}") for n in range(1, 8)]
        assert answers[-1] == 429
