"""The one Dockerfile of every service, checked offline: hadolint's rules, and what the images promise
(multi-stage, a base pinned to a patch release, the production lock only, a numeric user, HEALTHCHECK)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.deploy.containers import dockerfile_instructions, image

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = dockerfile_instructions(DOCKERFILE)
TEST_TOOLS = ["pytest", "hypothesis", "schemathesis", "playwright", "aiosmtpd", "pytest-asyncio", "pytest-timeout"]


def hadolint() -> str:
    return shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


def test_hadolint_finds_nothing():
    result = subprocess.run([hadolint(), "--failure-threshold", "info", "Dockerfile"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_refuses_an_unpinned_base_and_a_root_user(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install fastapi\nCMD python app.py\n")
    result = subprocess.run([hadolint(), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3007" in result.stdout and "DL3013" in result.stdout


def test_it_is_the_only_dockerfile():
    found = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("Dockerfile*") if ".git" not in p.parts]
    assert found == ["Dockerfile"]


def test_multi_stage_with_every_base_image_pinned_to_a_patch_release():
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)$", DOCKERFILE, re.M))
    bases = [arguments.get(rest.split()[0].strip("${}"), rest.split()[0])
             for word, rest in INSTRUCTIONS if word == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", base), f"pin {base} to a patch release"


def test_the_images_install_the_production_lock_and_no_test_tool():
    assert "requirements-production.lock" in DOCKERFILE and "requirements.lock" not in DOCKERFILE.replace(
        "requirements-production.lock", "")
    production = (ROOT / "requirements-production.lock").read_text().lower()
    for tool in TEST_TOOLS:
        assert f"\n{tool}==" not in production, tool


def test_every_service_is_built_from_one_service_argument():
    assert re.search(r"^ARG SERVICE$", DOCKERFILE, re.M)
    for service in ["registration", "evaluation", "notification", "portal"]:
        assert image(service).env["EMM_SERVICE"] == service


def test_a_numeric_non_root_user_a_healthcheck_and_a_writable_data_folder():
    final = image("registration")
    uid, _, gid = final.user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit(), final.user
    assert any(word == "HEALTHCHECK" for word, _ in INSTRUCTIONS)
    assert final.env["HOME"] != "/nonexistent" and final.env["EMM_CACHE_DIR"] == "/var/lib/emm"
    assert f"install -d -o {uid} -g {gid} /var/lib/emm" in DOCKERFILE


def test_the_build_context_keeps_out_what_the_image_does_not_need():
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignored[0] == "*"  # everything out, then only what the Dockerfile copies back in
    for needed in ["!requirements-production.lock", "!schemas/", "!services/", "!deploy/container/"]:
        assert needed in ignored
    copied = {rest.split()[0] for word, rest in INSTRUCTIONS if word == "COPY" and not rest.startswith("--from")}
    assert copied <= {"requirements-production.lock", "services", "schemas", "deploy/container/emm-run"}
