"""The deployment tools the tests run, built from the Go module proxy into the cache folder once:
compose v2 (validates docker-compose.yml: `config`) and kustomize (renders deploy/k8s).

    python deploy/go_tools.py compose     # prints the binary's path, building it first if missing
    python deploy/go_tools.py kustomize

No container engine or cluster is needed: both only read and render files.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot"))


@dataclass(frozen=True)
class GoTool:
    name: str
    module: str
    version: str
    package: str  # inside the module

    @property
    def binary(self) -> Path:
        return CACHE / "bin" / f"{self.name}-{self.version}"


# compose's go.mod has `exclude` directives, so `go install module@version` refuses it: it is built
# inside the downloaded module instead (which also keeps its own go.sum). kustomize the same way.
TOOLS = {tool.name: tool for tool in [
    GoTool("docker-compose", "github.com/docker/compose/v2", "v2.40.3", "./cmd"),
    GoTool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.7.1", "."),
]}


class ToolError(Exception):
    """The tool could not be built (no Go, or the module proxy unreachable)."""


def build(tool: GoTool) -> Path:
    """The tool's binary, built first if the cache has none (one build at a time on a machine)."""
    if tool.binary.exists():
        return tool.binary
    go = shutil.which("go")
    if not go:
        raise ToolError(f"{tool.name}: 'go' is not installed (Go 1.24+ is needed to build it)")
    tool.binary.parent.mkdir(parents=True, exist_ok=True)
    with open(tool.binary.parent / f".{tool.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tool.binary.exists():  # built by another process meanwhile
            return tool.binary
        env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false"}
        download = subprocess.run([go, "mod", "download", "-json", f"{tool.module}@{tool.version}"],
                                  capture_output=True, text=True, env=env, cwd=tool.binary.parent)
        if download.returncode != 0:
            raise ToolError(f"{tool.name}: go mod download failed: {(download.stdout + download.stderr)[-400:]}")
        module_dir = json.loads(download.stdout)["Dir"]
        partial = tool.binary.with_suffix(".partial")
        result = subprocess.run([go, "build", "-trimpath", "-o", str(partial), tool.package],
                                capture_output=True, text=True, env=env, cwd=module_dir)
        if result.returncode != 0:
            raise ToolError(f"{tool.name}: go build failed: {(result.stdout + result.stderr)[-400:]}")
        partial.rename(tool.binary)
    return tool.binary


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in TOOLS:
        print(f"usage: {sys.argv[0]} {'|'.join(TOOLS)}", file=sys.stderr)
        return 2
    try:
        print(build(TOOLS[sys.argv[1]]))
    except ToolError as exc:
        print(f"[go_tools] error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
