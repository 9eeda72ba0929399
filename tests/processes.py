"""Our services as real processes for integration tests: an API under uvicorn, a worker, on
free ports, with the test's own topic prefix, database and signing keys."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import KAFKA, MONGODB_URI

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServiceProcess:
    """One API or worker process; `env` overrides the defaults of `environment`."""

    service: str
    kind: str  # "api" or "worker"
    prefix: str
    database: str
    keys: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        upper = self.service.upper()
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "MONGODB_URI": MONGODB_URI,
               "EMM_TOPIC_PREFIX": self.prefix, "EMM_TOPIC_PARTITIONS": "3",
               f"{upper}_MONGODB_DATABASE": self.database,
               "EMM_JWT_PUBLIC_KEY_FILE": str(self.keys / "jwt.pub.pem"),
               f"{upper}_OUTBOX_POLL_SECONDS": "0.5", f"{upper}_METRICS_PORT": str(self.port)}
        if self.service in ("registration", "notification"):  # API tokens; the sign-in links in emails
            env["EMM_JWT_PRIVATE_KEY_FILE"] = str(self.keys / "jwt.pem")
        return {**env, **self.env}

    def start(self, wait: bool = True) -> "ServiceProcess":
        if self.service == "portal":
            command = [sys.executable, "-m", "uvicorn", "emm_portal.entrypoints.app:create_app", "--factory",
                       "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        elif self.kind == "api":
            command = [sys.executable, "-m", "uvicorn", f"emm_{self.service}.entrypoints.api:create_app", "--factory",
                       "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        else:
            command = [sys.executable, "-m", f"emm_{self.service}.entrypoints.worker"]
        log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"emm-{self.prefix}{self.service}-{self.kind}.log", "ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.environment(), stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_until_answering()
        return self

    def wait_until_answering(self, path: str | None = None, timeout: float = 60.0) -> None:
        path = path or ("/healthz" if self.kind == "api" else "/metrics")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} {self.kind} exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.service} {self.kind} did not answer {path} within {timeout}s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


PORTAL_COOKIE_SECRET = "test-portal-cookie-secret"


def portal(keys: Path, *, registration: ServiceProcess | None = None, evaluation: ServiceProcess | None = None,
           notification: ServiceProcess | None = None, env: dict[str, str] | None = None) -> ServiceProcess:
    """A portal process against the given APIs (an API not given is an address nobody answers),
    with PORTAL_COOKIE_SECRET so a test can read and make its cookies (tests/integration/portal)."""
    nobody = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    urls = {"PORTAL_REGISTRATION_URL": registration.url if registration else nobody,
            "PORTAL_EVALUATION_URL": evaluation.url if evaluation else nobody,
            "PORTAL_NOTIFICATION_URL": notification.url if notification else nobody,
            "PORTAL_COOKIE_SECRET": PORTAL_COOKIE_SECRET, "EMM_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    return ServiceProcess("portal", "api", prefix=f"{port}-", database="", keys=keys, port=port,
                          env={**urls, **(env or {})})


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process group started with start_new_session (SIGKILL after 20 s)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def drop_databases(unique: str) -> None:
    """Drop the databases of a test's processes (named `test_<unique>_<service>`)."""
    import pymongo

    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000)
    try:
        for name in client.list_database_names():
            if name.startswith(f"test_{unique}_"):
                client.drop_database(name)
    finally:
        client.close()
