"""Background processes of the local stack and services: pid files, logs, start and stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot"))
RUN = CACHE / "run"
LOGS = CACHE / "logs"


@dataclass(frozen=True)
class Component:
    name: str
    host: str
    port: int
    url: str

    @property
    def pidfile(self) -> Path:
        return RUN / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return LOGS / f"{self.name}.log"


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_of(component: Component) -> int | None:
    try:
        pid = int(component.pidfile.read_text())
        _reap(pid)
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def _reap(pid: int) -> None:
    """Collect the exit status of a child of this process that has ended (else it stays a zombie
    and still looks alive)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its own parent reaps it


def spawn(component: Component, cmd: list[str], env: dict | None = None) -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(component.logfile, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    component.pidfile.write_text(str(proc.pid))


def terminate(component: Component) -> bool:
    """Stop a component (SIGTERM, then SIGKILL after 10 s); True if it was running."""
    pid = pid_of(component)
    if pid is None:
        component.pidfile.unlink(missing_ok=True)
        return False
    os.killpg(pid, signal.SIGTERM)
    if not _gone_within(component, 10.0):
        os.killpg(pid, signal.SIGKILL)
    component.pidfile.unlink(missing_ok=True)
    return True


def _gone_within(component: Component, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while pid_of(component) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def kill(component: Component) -> None:
    """SIGKILL a component's process group at once (fault injection: no clean shutdown)."""
    pid = pid_of(component)
    if pid is not None:
        os.killpg(pid, signal.SIGKILL)
        _gone_within(component, 10.0)
    component.pidfile.unlink(missing_ok=True)
