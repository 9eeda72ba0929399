"""The three services and the portal as local background processes: each API and each worker its own process.

    python deploy/local/services.py start    # after stack.py start; waits for /readyz
    python deploy/local/services.py stop
    python deploy/local/services.py status
    python deploy/local/services.py stop evaluation    # one service's processes (its API and worker)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request

from processes import CACHE, Component, pid_of, port_open, spawn, terminate

KEYS = CACHE / "keys"


def api(name: str, port: int) -> tuple[Component, list[str]]:
    component = Component(f"{name}-api", "127.0.0.1", port, f"http://127.0.0.1:{port}/docs")
    return component, [sys.executable, "-m", "uvicorn", f"emm_{name}.entrypoints.api:create_app", "--factory",
                       "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]


def worker(name: str, metrics_port: int) -> tuple[Component, list[str]]:
    component = Component(f"{name}-worker", "127.0.0.1", metrics_port, f"http://127.0.0.1:{metrics_port}/metrics")
    return component, [sys.executable, "-m", f"emm_{name}.entrypoints.worker"]


def portal(port: int) -> tuple[Component, list[str]]:
    # No access log: uvicorn's would print the sign-in and invitation tokens of addresses.
    component = Component("portal", "127.0.0.1", port, f"http://127.0.0.1:{port}/")
    return component, [sys.executable, "-m", "uvicorn", "emm_portal.entrypoints.app:create_app", "--factory",
                       "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]


SERVICES = [api("registration", 8001), worker("registration", 9101),
            api("evaluation", 8002), worker("evaluation", 9102),
            api("notification", 8003), worker("notification", 9103), portal(8004)]


def environment(component: Component) -> dict[str, str]:
    env = {**os.environ, "EMM_JWT_PUBLIC_KEY_FILE": str(KEYS / "jwt-ed25519.pub.pem")}
    service = component.name.split("-")[0].upper()
    if component.name.endswith("-worker"):
        env[f"{service}_METRICS_PORT"] = str(component.port)
    if component.name.startswith(("registration-", "notification-")):  # API tokens; the links in emails
        env["EMM_JWT_PRIVATE_KEY_FILE"] = str(KEYS / "jwt-ed25519.pem")
    return env


def answers(component: Component) -> bool:
    path = "/metrics" if component.name.endswith("-worker") else "/readyz"
    try:
        with urllib.request.urlopen(f"http://{component.host}:{component.port}{path}", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def chosen(only: str | None) -> list[tuple[Component, list[str]]]:
    return [(c, command) for c, command in SERVICES if only is None or c.name.split("-")[0] == only]


def start(only: str | None = None) -> int:
    from emm_common.auth import ensure_key_pair

    ensure_key_pair(KEYS / "jwt-ed25519.pem", KEYS / "jwt-ed25519.pub.pem")
    for component, command in chosen(only):
        if pid_of(component) is None:
            if port_open(component.host, component.port):
                print(f"[services] error: port {component.port} for {component.name} is in use by another program",
                      file=sys.stderr)
                return 2
            spawn(component, command, environment(component))
    for component, _ in chosen(only):
        started = time.monotonic()
        while not answers(component):
            if pid_of(component) is None:
                print(f"[services] error: {component.name} exited; see {component.logfile}", file=sys.stderr)
                return 2
            if time.monotonic() - started > 60:
                print(f"[services] error: {component.name} not ready after 60 s; see {component.logfile}",
                      file=sys.stderr)
                return 2
            time.sleep(0.3)
        print(f"[services] {component.name:20} ready  {component.url}")
    return 0


def stop(only: str | None = None) -> int:
    for component, _ in reversed(chosen(only)):
        if terminate(component):
            print(f"[services] {component.name} stopped")
    return 0


def status() -> int:
    down = 0
    for component, _ in SERVICES:
        running = pid_of(component) is not None
        down += not running
        print(f"[services] {component.name:20} {'running' if running else 'stopped':8} {component.url}")
    return 1 if down else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("service", nargs="?", choices=sorted({c.name.split("-")[0] for c, _ in SERVICES}),
                        help="start or stop only this service's processes (a switch-over does)")
    args = parser.parse_args()
    if args.command == "status":
        return status()
    return {"start": start, "stop": stop}[args.command](args.service)


if __name__ == "__main__":
    sys.exit(main())
