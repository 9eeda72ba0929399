"""docker-compose.yml checked offline (no Docker engine here): compose v2's own `config` validates and
resolves it, then what can be checked without running it (test_containers_start.py runs its processes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.deploy.containers import compose_config

ROOT = Path(__file__).parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
RESOLVED = compose_config()["services"]
APPS = ["registration-api", "registration-worker", "evaluation-api", "evaluation-worker", "notification-api",
        "notification-worker"]
# Who signs: registration's API its tokens, notification the sign-in links in its emails.
ISSUERS = {"registration-api", "notification-api", "notification-worker"}


def test_every_service_has_a_pinned_image_or_a_build_context_that_exists():
    for name, service in SERVICES.items():
        if "build" in service:
            dockerfile = ROOT / service["build"]["context"] / service["build"].get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
        else:
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag ({image})"


def test_the_three_apis_and_three_workers_are_there_with_healthchecks():
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
    # registration's API signs tokens, notification the sign-in links in its emails; the others only verify.
    for name, service in SERVICES.items():
        has_private = "EMM_JWT_PRIVATE_KEY_FILE" in (service.get("environment") or {})
        assert has_private == (name in ISSUERS), name


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


def test_compose_v2_validates_the_file():
    from go_tools import TOOLS, build

    result = subprocess.run([str(build(TOOLS["docker-compose"])), "-f", "docker-compose.yml", "config", "--quiet"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compose_v2_refuses_a_wrong_file(tmp_path):
    from go_tools import TOOLS, build

    (tmp_path / "docker-compose.yml").write_text("services:\n  web:\n    image: x:1\n    restart: sometimes\n"
                                                 "    ports: 8080\n")
    result = subprocess.run([str(build(TOOLS["docker-compose"])), "-f", str(tmp_path / "docker-compose.yml"),
                             "config", "--quiet"], capture_output=True, text=True)
    assert result.returncode != 0


def test_every_service_of_ours_is_built_from_the_one_dockerfile():
    ours = {name: s for name, s in RESOLVED.items() if "build" in s}
    assert set(APPS) | {"portal", "keys"} <= set(ours)
    for name, service in ours.items():
        assert service["build"]["dockerfile"] == "Dockerfile" and service["build"]["args"]["SERVICE"], name


def test_long_running_services_restart_and_the_keys_step_runs_once():
    for name, service in RESOLVED.items():
        expected = "no" if name == "keys" else "unless-stopped"
        assert service.get("restart") == expected, name


def test_the_keys_step_hands_the_keys_to_the_services_user():
    keys = RESOLVED["keys"]
    assert keys["user"] == "root" and keys["command"] == ["keys"]
    assert keys["environment"]["EMM_KEYS_DIR"] == "/keys"
    assert [v["target"] for v in keys["volumes"]] == ["/keys"]


def test_workers_have_a_writable_data_folder_in_a_volume():
    for name in [n for n in RESOLVED if n.endswith("-worker")]:
        mounts = {v["target"]: v for v in RESOLVED[name].get("volumes", [])}
        assert mounts["/var/lib/emm"]["type"] == "volume", name


def test_kafka_keeps_its_topics_for_replay_and_answers_the_host():
    env = RESOLVED["kafka"]["environment"]
    assert env["KAFKA_LOG_RETENTION_MS"] == "-1" and env["KAFKA_LOG_RETENTION_BYTES"] == "-1"
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised["PLAINTEXT"] == "kafka:9092"  # the containers' name
    host_listener = next(name for name, address in advertised.items() if address.startswith("localhost:"))
    listening = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    published = {str(p["published"]): p["target"] for p in RESOLVED["kafka"]["ports"]}
    host_port = advertised[host_listener].split(":")[1]
    assert published[host_port] == int(listening[host_listener].split(":")[-1])


def test_kafka_and_mongo_keep_their_data_in_volumes():
    for name, target in [("kafka", "/var/lib/kafka/data"), ("mongo", "/data/db")]:
        assert any(v["type"] == "volume" and v["target"] == target for v in RESOLVED[name]["volumes"]), name
    assert RESOLVED["kafka"]["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
