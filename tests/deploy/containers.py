"""Processes started as docker-compose.yml's containers of our image would be, without a container
engine: the image's numeric user (setpriv, when the tests run as root), its ENV with HOME as the
image sets it, the compose file's command, environment and mounted files, in a folder that stands
for the container's file system. Only addresses change: the shared stack's Kafka, MongoDB and SMTP
instead of compose's service names, free ports instead of the fixed ones (other processes on this
machine use those), and the test's own topic prefix and databases.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
from go_tools import TOOLS, build  # noqa: E402  (deploy/ is scripts, not a package)

from tests.processes import stop as stop_process  # noqa: E402

PRODUCTION_LOCK = ROOT / "requirements-production.lock"
# The PATH of the python base image, after which the Dockerfile puts /opt/venv/bin first.
BASE_IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"


def compose_config() -> dict:
    """docker-compose.yml as compose v2 itself resolves it (anchors merged, defaults filled in)."""
    binary = build(TOOLS["docker-compose"])
    result = subprocess.run([str(binary), "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@dataclass(frozen=True)
class Image:
    """What the Dockerfile's final stage sets for a container."""

    env: dict[str, str]
    user: str
    workdir: str
    entrypoint: list[str]
    cmd: list[str]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            if current:
                word, _, rest = current.partition(" ")
                instructions.append((word.upper(), rest.strip()))
            current = ""
    return instructions


def image(service: str) -> Image:
    """The final stage of the Dockerfile built with SERVICE=service."""
    instructions = dockerfile_instructions((ROOT / "Dockerfile").read_text())
    final = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    env = {"PATH": BASE_IMAGE_PATH}
    user, workdir, entrypoint, cmd = "root", "/", [], []
    for word, rest in instructions[final + 1:]:
        if word == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value.replace("$PATH", env["PATH"]).replace("$SERVICE", service)
        elif word == "USER":
            user = rest
        elif word == "WORKDIR":
            workdir = rest
        elif word == "ENTRYPOINT":
            entrypoint = json.loads(rest)
        elif word == "CMD":
            cmd = json.loads(rest)
    return Image(env, user, workdir, entrypoint, cmd)


def reachable_by_others(path: Path) -> bool:
    """True if a user other than the owner can read `path` (every folder above it searchable)."""
    path = path.resolve()
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if folder != path and not mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


def image_python() -> str:
    """A Python 3.11 the image's user can run: this one if its installation is readable by others,
    else the system's (a pyenv Python under a 0700 home is not)."""
    for candidate in [sys._base_executable, "/usr/bin/python3.11", shutil.which("python3.11")]:
        if candidate and Path(candidate).exists() and reachable_by_others(Path(candidate)):
            prefix = subprocess.run([candidate, "-c", "import sys; print(sys.base_prefix)"],
                                    capture_output=True, text=True).stdout.strip()
            if prefix and reachable_by_others(Path(prefix) / "lib"):
                return candidate
    raise RuntimeError("no Python 3.11 readable by other users: install python3.11 (Debian) for this test")


def image_venv() -> Path:
    """The image's /opt/venv: the production lock installed (and `pip check`ed, as the Dockerfile
    does) into a venv the image's user can read. Built once per lock; under /var/cache when the
    cache folder is not readable by others (a home folder of mode 0700). Our own packages are not in it:
    FileSystem installs them per test."""
    import fcntl

    from emm_common.settings import CACHE_DIR

    digest = hashlib.sha256(PRODUCTION_LOCK.read_bytes()).hexdigest()[:12]
    base = CACHE_DIR if reachable_by_others(CACHE_DIR) else Path("/var/cache/emm-tot")
    venv = base / f"image-venv-{digest}"
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(base.stat().st_mode | 0o755)
    with open(base / ".image-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time on a machine
        if not (venv / ".complete").exists():
            shutil.rmtree(venv, ignore_errors=True)  # a build that was cut short
            subprocess.run([image_python(), "-m", "venv", str(venv)], check=True)
            pip = str(venv / "bin" / "pip")
            subprocess.run([pip, "install", "-q", "--disable-pip-version-check", "--no-deps", "-r",
                            str(PRODUCTION_LOCK)], check=True)
            # What the image's build stage builds our packages with (pip's isolated build, unpinned there too).
            subprocess.run([pip, "install", "-q", "--disable-pip-version-check", "setuptools>=68", "wheel"],
                           check=True)
            subprocess.run([pip, "check"], check=True, capture_output=True)
            (venv / ".complete").write_text(digest)
    return venv


def uid_gid(user: str) -> tuple[int, int]:
    uid, _, gid = user.partition(":")
    return int(uid) if uid != "root" else 0, int(gid or uid) if (gid or uid) != "root" else 0


@dataclass
class FileSystem:
    """A folder standing for a container's file system: the image's files (our packages, schemas,
    emm-run), and the compose file's volumes, created as a fresh named volume would be (owned as the
    image's folder at that path is: /var/lib/emm and /keys by its user)."""

    root: Path
    image_user: tuple[int, int]

    @classmethod
    def create(cls, image_user: tuple[int, int], venv: Path) -> "FileSystem":
        root = Path(tempfile.mkdtemp(prefix="emm-containers-"))
        root.chmod(0o755)
        fs = cls(root, image_user)
        # Our five packages installed (not copied) as the image installs them, so that what their
        # pyproject.toml leaves out (templates, catalogs, static files) is missing here too.
        sources = root / "src"
        shutil.copytree(ROOT / "services", sources, ignore=shutil.ignore_patterns(
            "__pycache__", "*.egg-info", "build"))
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--no-build-isolation", "--target", str(root / "opt/site"),
                        *(str(p.parent) for p in sorted(sources.glob("*/pyproject.toml")))],
                       check=True, capture_output=True)
        shutil.rmtree(sources)
        shutil.copytree(ROOT / "schemas", root / "app/schemas")
        (root / "app/vendor/htmx").mkdir(parents=True)
        (root / "usr/local/bin").mkdir(parents=True)
        shutil.copy2(ROOT / "deploy/container/emm-run", root / "usr/local/bin/emm-run")
        (root / "home/emm").mkdir(parents=True)  # root-owned: as read-only as Kubernetes makes it
        return fs

    def volume(self, name: str) -> Path:
        path = self.root / "volumes" / name
        if not path.exists():
            path.mkdir(parents=True)
            os.chown(path, *self.image_user)
        return path

    def host_path(self, container_path: str, mounts: dict[str, Path]) -> str:
        for target, source in sorted(mounts.items(), key=lambda m: -len(m[0])):
            if container_path == target or container_path.startswith(target + "/"):
                return str(source) + container_path[len(target):]
        if container_path.startswith("/opt/venv/"):
            return container_path
        return str(self.root) + container_path

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Container:
    """One compose service of our image, started as a process."""

    name: str
    spec: dict
    image: Image
    fs: FileSystem
    venv: Path
    rewrites: dict[str, str]
    http_port: int
    process: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.fs.root / f"{self.name}.log"

    @property
    def user(self) -> tuple[int, int]:
        return uid_gid(self.spec.get("user") or self.image.user)

    @property
    def mounts(self) -> dict[str, Path]:
        mounts = {}
        for volume in self.spec.get("volumes", []):
            mounts[volume["target"]] = self.fs.volume(volume["source"])
        return mounts

    @property
    def command(self) -> list[str]:
        entrypoint = self.spec.get("entrypoint") or self.image.entrypoint
        command = self.spec.get("command") or self.image.cmd
        return [*entrypoint, *command]

    def environment(self) -> dict[str, str]:
        env = {**self.image.env, **{k: str(v) for k, v in (self.spec.get("environment") or {}).items()}}
        # One pass, longest first: a rewritten port must not be rewritten again (a free port 49102
        # holds compose's 9102), nor a shorter name replace part of a longer one.
        names = re.compile("|".join(re.escape(old) for old in sorted(self.rewrites, key=len, reverse=True)))
        for name, value in env.items():
            env[name] = names.sub(lambda found: self.rewrites[found.group(0)], value) if self.rewrites else value
        env = {name: self.fs.host_path(value, self.mounts) if value.startswith("/") else value
               for name, value in env.items() if name != "PATH"} | {"PATH": self.path(env["PATH"])}
        env["PYTHONPATH"] = str(self.fs.root / "opt/site")  # our packages, installed (the image: into /opt/venv)
        env["EMM_HTTP_PORT"] = str(self.http_port)
        return env

    def path(self, image_path: str) -> str:
        """The image's PATH on this machine: its venv, its own files, the rest of the system's."""
        def folder(entry: str) -> str:
            if entry == "/opt/venv/bin":
                return str(self.venv / "bin")
            return str(self.fs.root) + entry if (self.fs.root / entry.lstrip("/")).is_dir() else entry
        return ":".join(folder(entry) for entry in image_path.split(":"))

    def argv(self, command: list[str]) -> list[str]:
        uid, gid = self.user
        run_as = [] if os.geteuid() != 0 else [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
        if command and command[0] == "emm-run":
            command = [str(self.fs.root / "usr/local/bin/emm-run"), *command[1:]]
        return [*run_as, *command]

    def start(self) -> "Container":
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.argv(self.command), env=self.environment(),
                                            cwd=self.fs.host_path(self.image.workdir, self.mounts),
                                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        return self

    def healthcheck(self) -> bool:
        """The compose service's own healthcheck, run inside the 'container' (its user, its env)."""
        test = self.spec["healthcheck"]["test"]
        assert test[0] == "CMD", test
        command = [self.rewrites.get(arg, arg) for arg in test[1:]]
        return subprocess.run(self.argv(command), env=self.environment(), cwd=self.fs.root,
                              capture_output=True, timeout=10).returncode == 0

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:]) if self.log.exists() else ""

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)


def wait_for(check, what: str, timeout: float, containers: list[Container]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for container in containers:
            if container.process and container.process.poll() is not None:
                raise AssertionError(f"{container.name} exited with {container.process.returncode} before "
                                     f"{what}:\n{container.tail()}")
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"not {what} within {timeout:.0f}s:\n" + "\n".join(
        f"--- {c.name}\n{c.tail()}" for c in containers))
