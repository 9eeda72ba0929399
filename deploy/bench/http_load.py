"""HTTP load from wrk, a C load generator, so that the limit measured is the server's.

A Python client on this 2-core machine tops out near 200 requests/s, far below what FastAPI
answers, so every HTTP figure of the benchmarks comes from here. Each run also says how much of
the machine wrk itself used (its CPU seconds over the run's wall time × cores): a generator that
takes most of the CPU is the limit, not the server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).parent / "wrk" / "emm.lua"


@dataclass(frozen=True)
class HttpLoad:
    """One wrk run: requests per second, latency percentiles in seconds, errors, generator share."""

    what: str
    connections: int
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    latency: dict[str, float]
    generator_cpu_share: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentiles(self) -> str:
        return ", ".join(f"{name} {self.latency[name] * 1000:,.1f} ms" for name in ("p50", "p99", "p99.9"))

    def line(self) -> str:
        errors = f"; {self.non_2xx} non-2xx, {self.socket_errors} socket errors" if self.non_2xx or self.socket_errors \
            else ""
        return (f"{self.what}: {self.rate:,.0f} req/s at concurrency {self.connections} ({self.requests:,} in "
                f"{self.seconds:.1f} s); {self.percentiles()}; wrk used {self.generator_cpu_share:.0%} of the "
                f"machine's CPU{errors}")


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing: `make bench` installs it (Debian package wrk)")
    return found


def load(what: str, url: str, *, connections: int = 20, seconds: float = 10, threads: int = 2,
         token: str | None = None, enroll_into: list[str] | None = None, run: str = "run") -> HttpLoad:
    """Drive `url` with wrk for `seconds` at `connections` in flight: GET, or with `enroll_into`
    a POST of a new enrollment per request into those sessions (url is then the API's base)."""
    environment = {**os.environ, "EMM_RUN": run}
    if token:
        environment["EMM_TOKEN"] = token
    if enroll_into:
        environment["EMM_SESSIONS"] = ",".join(enroll_into)
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s",
               "-s", str(SCRIPT), url]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output}")
    line = next((l for l in output.splitlines() if l.startswith("EMM_WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {output}")
    figures = json.loads(line.removeprefix("EMM_WRK "))
    cores = len(os.sched_getaffinity(0))
    return HttpLoad(
        what=what, connections=connections, requests=figures["requests"], seconds=figures["duration_us"] / 1e6,
        non_2xx=figures["non_2xx"], socket_errors=figures["socket_errors"],
        latency={"p50": figures["p50"] / 1e6, "p90": figures["p90"] / 1e6, "p99": figures["p99"] / 1e6,
                 "p99.9": figures["p999"] / 1e6, "max": figures["max"] / 1e6},
        generator_cpu_share=(usage.ru_utime + usage.ru_stime) / (wall * cores))
