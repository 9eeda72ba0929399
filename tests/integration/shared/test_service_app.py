"""The shared FastAPI app: liveness never depends on Kafka or MongoDB; readiness does, with the reason."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from emm_common.http import create_service_app
from emm_common.settings import ServiceSettings
from tests.conftest import KAFKA, MONGODB_URI

pytestmark = pytest.mark.integration


def settings(tmp_path, **overrides) -> ServiceSettings:
    from emm_common.auth import ensure_key_pair

    ensure_key_pair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    values = dict(service_name="sample", kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI,
                  topic_prefix=f"t{tmp_path.name[-8:]}.", jwt_public_key_file=tmp_path / "k.pub.pem")
    return ServiceSettings(**{**values, **overrides})


def wait_ready(client: TestClient, expected: int, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == expected or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_ready_when_kafka_and_mongodb_answer(tmp_path):
    app = create_service_app(settings(tmp_path), title="sample", description="test")
    with TestClient(app) as client:
        response = wait_ready(client, 200)
        assert response.status_code == 200, response.json()
        assert response.json()["checks"] == {"mongodb": "ok", "kafka": "ok"}
        assert client.get("/healthz").status_code == 200
        # (HTTP metrics by route are checked on a real service process, where the app is alone:
        # see tests/integration/registration; here other tests' apps share this process's registry)
        assert client.get("/metrics").text.startswith("# HELP")


def test_unreachable_database_makes_readiness_503_with_the_reason_but_liveness_stays_200(tmp_path):
    unreachable = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"
    app = create_service_app(settings(tmp_path, mongodb_uri=unreachable), title="sample", description="test")
    with TestClient(app) as client:
        response = wait_ready(client, 503)
        assert response.status_code == 503
        assert response.json()["checks"]["mongodb"].startswith("unreachable")
        assert client.get("/healthz").status_code == 200


def test_unreachable_kafka_makes_readiness_503_and_the_api_keeps_answering(tmp_path):
    app = create_service_app(settings(tmp_path, kafka_bootstrap_servers="127.0.0.1:1"), title="sample",
                             description="test")
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["kafka"] == "not connected yet"
        assert client.get("/healthz").status_code == 200


def test_a_database_error_that_heals_by_itself_is_a_503_and_any_other_a_500(tmp_path):
    """FerretDB's "context canceled" (an operation it abandoned) says: repeat the command."""
    from pymongo.errors import OperationFailure

    app = create_service_app(settings(tmp_path), title="sample", description="test")

    @app.get("/abandoned")
    async def abandoned():
        raise OperationFailure("(InternalError) context canceled", 1)

    @app.get("/refused")
    async def refused():
        raise OperationFailure("unknown operator: $bogus", 2)

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/abandoned")
        assert response.status_code == 503 and response.headers["Retry-After"] and response.json()["detail"]
        assert client.get("/refused").status_code == 500
