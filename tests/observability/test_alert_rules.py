"""The alert rules and Prometheus's configuration, checked by Prometheus's own promtool (Debian's
`prometheus` package; deploy/local/bootstrap.sh installs it): the rules parse, the config loads
them, and every alert fires in one unit test case and stays quiet in another."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROMETHEUS = Path(__file__).parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool missing: run deploy/local/bootstrap.sh")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


def alert_names() -> set[str]:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}


@needs_promtool
def test_promtool_accepts_the_rules_and_the_config_that_loads_them():
    rules = promtool("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert "1 rule files found" in config.stdout + config.stderr


@needs_promtool
def test_every_alert_fires_and_does_not_fire_as_its_unit_tests_say():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_case_that_fires_and_one_that_does_not():
    cases = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    checks = [check for case in cases for check in case["alert_rule_test"]]
    fired = {check["alertname"] for check in checks if check.get("exp_alerts")}
    quiet = {check["alertname"] for check in checks if not check.get("exp_alerts")}
    assert fired == alert_names() and quiet == alert_names()


def test_the_operators_questions_each_have_an_alert():
    # issue 17: lag growing, outbox event too old, dead letters, email failures, not ready / down
    assert {"EmmConsumerLagGrowing", "EmmOutboxEventWaiting", "EmmDeadLetters", "EmmEmailFailures",
            "EmmDependencyDown", "EmmTargetDown"} <= alert_names()
