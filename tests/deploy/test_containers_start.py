"""Every container of docker-compose.yml built from our Dockerfile starts and becomes ready, run
as its container would be (tests/deploy/containers.py): the image's user 10001, HOME as the image
sets it and not writable, the compose command, environment and volumes, the keys as the `keys`
step leaves them. Against the shared stack, with this test's own topic prefix and databases."""

from __future__ import annotations

import os
import stat

import httpx
import pytest

from tests import conftest
from tests.conftest import KAFKA, MONGODB_URI
from tests.deploy.containers import Container, FileSystem, compose_config, image, image_venv, uid_gid, wait_for
from tests.processes import drop_databases, free_port

pytestmark = pytest.mark.integration

SERVICES = compose_config()["services"]
OURS = {name: spec for name, spec in SERVICES.items() if spec.get("build", {}).get("dockerfile") == "Dockerfile"}
LONG_RUNNING = [name for name, spec in OURS.items() if spec.get("restart") != "no"]


def service_of(spec: dict) -> str:
    return spec["build"]["args"]["SERVICE"]


@pytest.fixture
def filesystem():
    if os.geteuid() != 0:
        pytest.skip("starting processes as the image's user 10001 needs root (CI runs as root)")
    fs = FileSystem.create(uid_gid(image("registration").user), image_venv())
    yield fs
    fs.remove()


def test_the_image_runs_as_a_numeric_non_root_user():
    uid, gid = uid_gid(image("registration").user)
    assert uid > 0 and gid > 0
    assert all(not spec.get("user") for name, spec in OURS.items() if name in LONG_RUNNING)


def test_every_container_of_our_image_starts_and_becomes_ready(filesystem, topic_prefix, unique):
    venv = image_venv()
    ports = {name: free_port() for name in OURS}
    metrics = {name: free_port() for name in OURS}
    rewrites = {"mongodb://mongo:27017/?replicaSet=rs0": MONGODB_URI, "kafka:9092": KAFKA}
    for name, spec in OURS.items():
        env = spec.get("environment") or {}
        service = service_of(spec).upper()
        rewrites[f"http://{name}:{spec.get('ports', [{}])[0].get('target', 0)}"] = f"http://127.0.0.1:{ports[name]}"
        if f"{service}_METRICS_PORT" in env:
            rewrites[env[f"{service}_METRICS_PORT"]] = str(metrics[name])
    rewrites = {old: new for old, new in rewrites.items() if not old.endswith(":0")}

    def container(name: str) -> Container:
        spec = SERVICES[name]
        env = dict(spec.get("environment") or {})
        service = service_of(spec)
        env.update({"EMM_TOPIC_PREFIX": topic_prefix, "EMM_TOPIC_PARTITIONS": "3",
                    f"{service.upper()}_MONGODB_DATABASE": f"test_{unique}_{service}"})
        if env.get("NOTIFICATION_SMTP_HOST") == "mailpit":
            env["NOTIFICATION_SMTP_HOST"] = "127.0.0.1"
        if env.get("KAFKA_SASL_USERNAME"):  # compose's principal, with the shared broker's password for it
            passwords = getattr(conftest, "kafka_passwords", dict)()
            if passwords:
                env["KAFKA_SASL_PASSWORD"] = passwords[env["KAFKA_SASL_USERNAME"]]
            else:  # a broker without SASL
                env = {k: v for k, v in env.items() if not k.startswith("KAFKA_SASL_")}
        return Container(name, {**spec, "environment": env}, image(service), filesystem, venv, rewrites,
                         http_port=ports[name])

    keys = container("keys").start()
    keys.process.wait(60)
    assert keys.process.returncode == 0, keys.tail()
    keys_dir = filesystem.volume("keys")
    image_uid, _ = uid_gid(image("registration").user)
    private, public = (keys_dir / "jwt-ed25519.pem").stat(), (keys_dir / "jwt-ed25519.pub.pem").stat()
    assert (private.st_uid, stat.S_IMODE(private.st_mode)) == (image_uid, 0o600)
    assert stat.S_IMODE(public.st_mode) == 0o644

    if hasattr(conftest, "grant_topics"):  # the broker's ACLs for this test's prefix, as production's
        conftest.grant_topics(topic_prefix)
    started = [container(name).start() for name in LONG_RUNNING]
    try:
        apis = [c for c in started if c.command[-1] == "api"]

        def apis_ready() -> bool:
            for c in apis:
                try:
                    if httpx.get(f"http://127.0.0.1:{c.http_port}/readyz", timeout=2).status_code != 200:
                        return False
                except httpx.HTTPError:
                    return False
            return True

        wait_for(apis_ready, "every API and the portal ready (/readyz)", 90, started)
        wait_for(lambda: all(c.healthcheck() for c in started), "every compose healthcheck passing", 60, started)
        portal = next(c for c in started if c.spec["build"]["args"]["SERVICE"] == "portal")
        home = httpx.get(f"http://127.0.0.1:{portal.http_port}/", timeout=10)  # a page from its installed templates
        assert home.status_code == 200 and "<html" in home.text, home.text[:300]
        for c in started:
            # faust's data folder: in the worker's volume, not under HOME (registration's clock has no faust)
            if c.command[-1] == "worker" and c.spec["build"]["args"]["SERVICE"] != "registration":
                assert any((filesystem.volume(v["source"]) / "faust").is_dir()
                           for v in c.spec["volumes"] if v["target"] == "/var/lib/emm"), c.name
        assert not any(filesystem.root.joinpath("home/emm").iterdir()), "something wrote into HOME"
    finally:
        for c in started:
            c.stop()
        drop_databases(unique)
