"""docker-compose.yml checked offline (no Docker engine here): what can be checked without running it."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = ["registration-api", "evaluation-api", "evaluation-worker", "notification-api", "notification-worker"]


def test_every_service_has_a_pinned_image_or_a_build_context_that_exists():
    for name, service in SERVICES.items():
        if "build" in service:
            dockerfile = ROOT / service["build"]["context"] / service["build"]["dockerfile"]
            assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
        else:
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag ({image})"


def test_the_three_apis_and_two_workers_are_there_with_healthchecks():
    for name in APPS:
        assert "healthcheck" in SERVICES[name], name
    for name in ["kafka", "mongo", "mailpit"]:
        assert "healthcheck" in SERVICES[name], name


def test_apps_wait_for_healthy_kafka_and_mongo():
    for name in APPS:
        depends = SERVICES[name]["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy", name
        assert depends["mongo"]["condition"] == "service_healthy", name


def test_apps_get_the_connection_variables_the_readme_promises():
    for name in APPS:
        env = SERVICES[name]["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["MONGODB_URI"].startswith("mongodb://mongo:27017")
    for name in ["notification-api", "notification-worker"]:
        assert SERVICES[name]["environment"]["NOTIFICATION_SMTP_HOST"] == "mailpit"


def test_only_the_issuers_hold_the_private_signing_key():
    # registration signs API tokens, notification the sign-in links in its emails; evaluation only verifies.
    for name, service in SERVICES.items():
        has_private = "EMM_JWT_PRIVATE_KEY_FILE" in (service.get("environment") or {})
        assert has_private == name.startswith(("registration-", "notification-")), name


def test_published_ports_match_the_readme():
    published = {int(p.split(":")[0]) for s in SERVICES.values() for p in s.get("ports", [])}
    assert {8001, 8002, 8003, 8004, 9092, 27017, 1025, 8025, 9090} <= published
    readme = (ROOT / "README.md").read_text()
    for port in ["8001", "8002", "8003", "9092", "27017", "1025", "8025"]:
        assert port in readme, port


def test_mongo_runs_as_a_single_node_replica_set():
    assert "--replSet" in SERVICES["mongo"]["command"]


def test_prometheus_scrapes_every_api_and_worker():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {t.split(":")[0] for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == set(APPS) | {"portal"}


def test_the_portal_calls_the_three_apis_by_their_service_names():
    env = SERVICES["portal"]["environment"]
    assert [env[f"PORTAL_{name.upper()}_URL"] for name in ("registration", "evaluation", "notification")] == [
        "http://registration-api:8001", "http://evaluation-api:8002", "http://notification-api:8003"]
    assert "healthcheck" in SERVICES["portal"] and SERVICES["portal"]["ports"] == ["8004:8004"]
