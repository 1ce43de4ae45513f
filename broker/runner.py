"""Start and stop a Mosquitto process from a rendered config (see ``provision.render_config``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

MOSQUITTO_ENV = "COMMONSHED_MOSQUITTO"


class BrokerFailed(RuntimeError):
    """Mosquitto did not start, or did not accept connections in time."""


def mosquitto_executable() -> str:
    """Return the Mosquitto binary: ``$COMMONSHED_MOSQUITTO``, on PATH, or /usr/sbin/mosquitto."""
    return os.environ.get(MOSQUITTO_ENV) or shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def port_accepts(host: str, port: int) -> bool:
    """Tell whether something accepts TCP connections on ``host``:``port``."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class MosquittoProcess:
    """One Mosquitto process; ``start()`` may be called again after ``stop()`` or ``kill()``."""

    def __init__(self, config: Path, *, host: str, port: int, log_path: Path) -> None:
        self.config = Path(config)
        self.host = host
        self.port = port
        self.log_path = Path(log_path)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """Return the process id while it runs."""
        process = self._live_process()
        return process.pid if process is not None else None

    @property
    def running(self) -> bool:
        """Tell whether the process is alive."""
        return self._live_process() is not None

    def start(self, *, timeout: float = 10.0) -> None:
        """Start Mosquitto and return once it says it runs and its port accepts connections."""
        if self.running:
            raise BrokerFailed(f"Mosquitto is already running (pid {self.pid})")
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self._process = process = subprocess.Popen(
                [mosquitto_executable(), "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_ready(process, timeout, log_offset)

    def stop(self, *, timeout: float = 10.0) -> int | None:
        """Stop Mosquitto with SIGTERM (it saves its persistence); SIGKILL if it lingers."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.terminate()
            try:
                return self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
        return self._process.wait()

    def kill(self) -> None:
        """Kill Mosquitto with SIGKILL, as a power cut would: no last save."""
        process = self._live_process()
        if process is not None:
            process.kill()
        if self._process is not None:
            self._process.wait()

    def reload(self) -> None:
        """Make Mosquitto reread its config (SIGHUP); the plugin's clients need no reload."""
        self._signal(signal.SIGHUP)

    def save(self) -> None:
        """Make Mosquitto write its persistence snapshot now (SIGUSR1)."""
        self._signal(signal.SIGUSR1)

    def log_text(self) -> str:
        """Return what Mosquitto has logged so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _live_process(self) -> subprocess.Popen[bytes] | None:
        """Return the process while it is alive, else None."""
        process = self._process
        return process if process is not None and process.poll() is None else None

    def _signal(self, signum: int) -> None:
        process = self._live_process()
        if process is None:
            raise BrokerFailed("Mosquitto is not running")
        process.send_signal(signum)

    def _wait_until_ready(
        self, process: subprocess.Popen[bytes], timeout: float, log_offset: int
    ) -> None:
        """Poll until Mosquitto logs that it runs and its port accepts; fail early if it exits.

        NOTE: the port alone proves nothing: another process may hold it while ours fails.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                process.wait()
                raise BrokerFailed(
                    f"Mosquitto exited with {process.returncode}:\n{self._log_tail()}"
                )
            if self._logged_running(log_offset) and port_accepts(self.host, self.port):
                return
            time.sleep(0.01)
        self.kill()
        raise BrokerFailed(
            f"Mosquitto did not accept on port {self.port} within {timeout} s:\n{self._log_tail()}"
        )

    def _logged_running(self, log_offset: int) -> bool:
        """Tell whether this run's log says Mosquitto opened its listeners and runs."""
        with open(self.log_path, "rb") as log:
            log.seek(log_offset)
            return b" running" in log.read()

    def _log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> MosquittoProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def running_broker_pid(pid_file: Path) -> int | None:
    """Return the pid of the Mosquitto named in ``pid_file`` while it runs, else None."""
    try:
        pid = int(Path(pid_file).read_text().strip())
        # NOTE: a stale pid file may name some other process now.
        if Path(f"/proc/{pid}/comm").read_text().strip() != "mosquitto":
            return None
    except (OSError, ValueError):
        return None
    return pid


def signal_running_broker(pid_file: Path, signum: int = signal.SIGHUP) -> bool:
    """Send ``signum`` to the Mosquitto whose pid is in ``pid_file``; tell whether one ran."""
    pid = running_broker_pid(pid_file)
    if pid is None:
        return False
    try:
        os.kill(pid, signum)
    except OSError:
        return False
    return True
