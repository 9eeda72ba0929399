"""FerretDB v1 on its PostgreSQL backend against its SQLite backend (our default), same benchmark.

    make bench BENCH=ferretdb_backends [ARGS='--rounds 2 --seconds 8']

Starts, privately and on other ports (nothing of the local stack is touched):
  a PostgreSQL server (Debian's `postgresql`, installed with apt-get if missing) with its data in
  $TMPDIR/emm-bench-postgresql (its own user must reach it), defaults as Debian ships them (fsync on);
  our FerretDB binary (the same build as the local stack's, with the SQLite `_id` patch, which
  does not touch the PostgreSQL backend) twice: on PostgreSQL and on a fresh SQLite directory;
then runs raw_database.py's insert_one, find_one by `_id` and conditional replace_one at
concurrency 20 from two client processes against each, alternating (SQLite, PostgreSQL, SQLite,
...) for --rounds rounds so that a change in the machine's load falls on both, and prints each
figure with the ratio PostgreSQL / SQLite and the clients' CPU share.
A benchmark, not a test: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))

from processes import CACHE, Component, port_open, spawn, terminate  # noqa: E402
from stack import ferretdb_binary, install_ferretdb  # noqa: E402

from measure import load_average, machine, markdown_table  # noqa: E402
from raw_database import database_rates  # noqa: E402

ROOT_DIR = CACHE / "stacks" / "ferretdb-backends"
# PostgreSQL's own user must reach its data, which a home folder of mode 0700 does not allow.
PG_DIR = Path(tempfile.gettempdir()) / "emm-bench-postgresql"
PG_PORT, PG_FERRET_PORT, SQLITE_FERRET_PORT = 54329, 27029, 27028


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=False)
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise SystemExit("PostgreSQL is not installed and apt-get could not install it")
    return found[-1].parent


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    return (["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]
            if os.geteuid() == 0 else command)


def start_postgres(bin_dir: Path) -> Component:
    data = PG_DIR / "data"
    shutil.rmtree(PG_DIR, ignore_errors=True)
    PG_DIR.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(PG_DIR, "postgres", "postgres")
    subprocess.run(as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "ferret", "--auth=trust",
                                "-E", "UTF8"]), check=True, stdout=subprocess.DEVNULL)
    component = Component("bench-postgres", "127.0.0.1", PG_PORT, f"postgres://127.0.0.1:{PG_PORT}")
    spawn(component, as_postgres([str(bin_dir / "postgres"), "-D", str(data), "-p", str(PG_PORT),
                                  "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={PG_DIR}"]))
    wait_for(component)
    subprocess.run(as_postgres([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "ferret",
                                "ferretdb"]), check=True)
    return component


def start_ferretdb(name: str, port: int, backend: list[str]) -> Component:
    component = Component(name, "127.0.0.1", port, f"mongodb://127.0.0.1:{port}/?retryWrites=false")
    state = ROOT_DIR / name
    state.mkdir(parents=True, exist_ok=True)
    spawn(component, [str(ferretdb_binary()), *backend, f"--listen-addr=127.0.0.1:{port}", "--telemetry=disable",
                      f"--state-dir={state}", f"--debug-addr=127.0.0.1:{port + 1000}", "--log-level=WARN"])
    wait_for(component)
    return component


def wait_for(component: Component, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not port_open(component.host, component.port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{component.name} did not open port {component.port} within {seconds:.0f} s")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8, help="per operation and backend in each round")
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    install_ferretdb()
    started: list[Component] = []
    try:
        started.append(start_postgres(postgres_bin()))
        shutil.rmtree(ROOT_DIR, ignore_errors=True)
        (ROOT_DIR / "sqlite").mkdir(parents=True)
        backends = {
            "SQLite": start_ferretdb("bench-ferretdb-sqlite", SQLITE_FERRET_PORT,
                                     ["--handler=sqlite", f"--sqlite-url=file:{ROOT_DIR / 'sqlite'}/"]),
            "PostgreSQL": start_ferretdb("bench-ferretdb-postgresql", PG_FERRET_PORT,
                                         ["--handler=postgresql",
                                          f"--postgresql-url=postgres://ferret@127.0.0.1:{PG_PORT}/ferretdb"]),
        }
        started += backends.values()
        figures: dict[tuple[str, str], list] = {}
        for round_number in range(args.rounds):
            for name, component in backends.items():
                print(f"round {round_number + 1}, {name} (load average {load_average()})", flush=True)
                for rate in database_rates(args.concurrency, seconds=args.seconds, uri=component.url):
                    print("  " + rate.line().replace("FerretDB", f"FerretDB/{name}"), flush=True)
                    figures.setdefault((rate.operation, name), []).append(rate)
    finally:
        for component in reversed(started):
            terminate(component)
        shutil.rmtree(ROOT_DIR, ignore_errors=True)
        shutil.rmtree(PG_DIR, ignore_errors=True)
    rows = []
    for operation in ("insert_one", "find_one", "replace_one"):
        sqlite = sum(r.rate for r in figures[(operation, "SQLite")]) / args.rounds
        postgres = sum(r.rate for r in figures[(operation, "PostgreSQL")]) / args.rounds
        cpu = max(r.client_cpu_share for name in backends for r in figures[(operation, name)])
        rows.append((f"{operation}, concurrency {args.concurrency}", f"{sqlite:,.0f}/s", f"{postgres:,.0f}/s",
                     f"{postgres / sqlite:.2f}", f"{cpu:.0%}"))
    print(f"\nmean of {args.rounds} rounds; load average at the end {load_average()}")
    print(markdown_table(("operation", "FerretDB on SQLite", "FerretDB on PostgreSQL", "PostgreSQL ÷ SQLite",
                          "clients' CPU share, at most"), rows))


if __name__ == "__main__":
    main()
