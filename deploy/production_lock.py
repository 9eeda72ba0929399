"""The production lock: the pins of requirements.lock that the five packages under services/ need
at run time, and nothing else (no pytest, hypothesis, schemathesis, playwright... in the images).

    python deploy/production_lock.py          # rewrite requirements-production.lock
    python deploy/production_lock.py --check  # exit 1 if it is out of date (a test runs this)

It walks the requirements our pyproject.toml files declare, then those of each installed
distribution (the venv made from requirements.lock), with their extras and markers evaluated for
the image's Linux and Python 3.11, and takes every version from requirements.lock. Offline.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DEVELOPMENT_LOCK = ROOT / "requirements.lock"
PRODUCTION_LOCK = ROOT / "requirements-production.lock"
PACKAGES = ["shared", "registration", "evaluation", "notification", "portal"]
HEADER = """\
# Run-time packages of the five services, pinned as in requirements.lock (what the images install).
# Generated from the services' pyproject.toml files: python deploy/production_lock.py (never by hand).
"""
# The environment of the image (python:3.11 on Linux), whatever machine generates the file.
IMAGE_MARKERS = {**default_environment(), "sys_platform": "linux", "platform_system": "Linux",
                 "os_name": "posix", "python_version": "3.11", "implementation_name": "cpython",
                 "platform_python_implementation": "CPython"}


def pins(lock: Path) -> dict[str, str]:
    """Canonical name -> the line `Name==version` of a lock file."""
    result = {}
    for line in lock.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            result[canonicalize_name(line.split("==")[0])] = line
    return result


def our_packages() -> dict[str, list[Requirement]]:
    """Our own packages (not installed in the venv): canonical name -> declared requirements."""
    found = {}
    for folder in PACKAGES:
        project = tomllib.loads((ROOT / "services" / folder / "pyproject.toml").read_text())["project"]
        found[canonicalize_name(project["name"])] = [Requirement(r) for r in project.get("dependencies", [])]
    return found


def applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**IMAGE_MARKERS, "extra": extra}) for extra in (extras or {""}))


def run_time_closure() -> set[str]:
    """Canonical names of every third-party distribution the services need at run time."""
    ours = our_packages()
    needed: set[str] = set()
    pending: list[tuple[Requirement, set[str]]] = [(r, set()) for reqs in ours.values() for r in reqs]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        requirement, parent_extras = pending.pop()
        if not applies(requirement, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        if name in ours:
            continue  # listed above already
        needed.add(name)
        for line in metadata.requires(requirement.name) or []:
            pending.append((Requirement(line), set(requirement.extras)))
    return needed


def production_lock() -> str:
    development = pins(DEVELOPMENT_LOCK)
    needed = run_time_closure()
    missing = sorted(needed - development.keys())
    if missing:
        raise SystemExit(f"requirements.lock lacks {', '.join(missing)}: install and pin them first")
    lines = [development[name] for name in sorted(needed)]
    return HEADER + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if requirements-production.lock is out of date")
    wanted = production_lock()
    if parser.parse_args().check:
        if not PRODUCTION_LOCK.exists() or PRODUCTION_LOCK.read_text() != wanted:
            print("requirements-production.lock is out of date: run python deploy/production_lock.py", file=sys.stderr)
            return 1
        return 0
    PRODUCTION_LOCK.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
