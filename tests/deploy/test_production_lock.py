"""The production lock (what the images install) is generated from the services' declared
dependencies, pinned as in the development lock, and holds no test tool."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_production_lock_is_up_to_date_with_the_pyprojects():
    result = subprocess.run([sys.executable, "deploy/production_lock.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_production_pin_is_the_development_pin():
    def pins(name: str) -> set[str]:
        return {line.strip() for line in (ROOT / name).read_text().splitlines()
                if line.strip() and not line.startswith("#")}

    production, development = pins("requirements-production.lock"), pins("requirements.lock")
    assert production and production <= development
    assert not {p for p in production if p.split("==")[0].lower() in {"pytest", "hypothesis", "schemathesis",
                                                                       "playwright", "aiosmtpd"}}


# Needed at run time without an import: the server the containers run, and FastAPI's form parser.
USED_WITHOUT_IMPORT = {"uvicorn", "python-multipart"}


def test_no_service_declares_a_package_it_never_imports():
    import re
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    distribution_of = {module: {canonicalize_name(d) for d in dists}
                       for module, dists in packages_distributions().items()}
    for pyproject in ROOT.glob("services/*/pyproject.toml"):
        package = pyproject.parent
        sources = "\n".join(p.read_text() for p in package.rglob("*.py"))
        imported = {canonicalize_name(d) for module in re.findall(r"^\s*(?:from|import) (\w+)", sources, re.M)
                    for d in distribution_of.get(module, ())}
        for line in tomllib.loads(pyproject.read_text())["project"]["dependencies"]:
            name = canonicalize_name(Requirement(line).name)
            if name.startswith("emm-") or name in USED_WITHOUT_IMPORT:
                continue
            assert name in imported, f"{package.name} declares {name} but never imports it"
