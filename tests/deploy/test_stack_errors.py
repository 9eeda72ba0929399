"""The local stack says in one clear line what to do when something it needs is missing."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "deploy" / "local"))

import processes  # noqa: E402
import stack  # noqa: E402


def test_a_missing_tool_is_named_with_how_to_install_it():
    with pytest.raises(stack.StackError) as error:
        stack.require_tool("surely-not-installed-tool", "install it with apt-get install it")
    assert "'surely-not-installed-tool' is not installed: install it" in str(error.value)


def test_a_failing_download_step_reports_its_last_lines():
    with pytest.raises(stack.StackError) as error:
        stack.run_quiet([sys.executable, "-c", "import sys; print('no route to host'); sys.exit(3)"],
                        "downloading the Kafka jars with mvn")
    assert "downloading the Kafka jars with mvn failed" in str(error.value)
    assert "no route to host" in str(error.value)


def test_a_port_in_use_is_detected():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert processes.port_open("127.0.0.1", server.getsockname()[1])


def test_status_lists_every_component(tmp_path):
    result = subprocess.run([sys.executable, str(Path(stack.__file__)), "status"], capture_output=True, text=True,
                            env={"EMM_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1  # nothing runs from an empty cache folder
    for name in ("kafka", "ferretdb", "smtp"):
        assert name in result.stdout
