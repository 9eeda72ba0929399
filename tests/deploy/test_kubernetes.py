"""deploy/k8s rendered by kustomize (built from the Go module proxy) and every object validated offline:
Kubernetes' own kinds against their schemas (kubernetes-validate, strict: an unknown field is an error),
the operators' resources by shape (operator_shapes.py); then what the platform needs of them."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from emm_common.topics import all_topics
from tests.deploy.containers import compose_config, image, uid_gid
from tests.deploy.operator_shapes import SHAPES

from go_tools import TOOLS, build  # deploy/ (put on sys.path by tests.deploy.containers)

ROOT = Path(__file__).parents[2]
OVERLAYS = ["local", "production"]
# The oldest Kubernetes the manifests are for, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ["1.31.0", kubernetes_validate.latest_version()]


def kustomize(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(build(TOOLS["kustomize"])), "build", str(path)], capture_output=True, text=True)


@cache
def rendered(overlay: str) -> tuple[dict, ...]:
    result = kustomize(ROOT / "deploy" / "k8s" / "overlays" / overlay)
    assert result.returncode == 0, result.stderr
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def problems(obj: dict, version: str) -> list[str]:
    """Why `obj` is not a valid object (empty: it is)."""
    shape = SHAPES.get((obj.get("apiVersion"), obj.get("kind")))
    if shape is not None:
        return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft202012Validator(shape)
                .iter_errors(obj)]
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'/'.join(map(str, error.path))}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no schema for {obj.get('apiVersion')} {obj.get('kind')}"]
    return []


def of_kind(overlay: str, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in rendered(overlay) if o["kind"] == kind}


def settings(overlay: str) -> dict[str, str]:
    return next(iter(of_kind(overlay, "ConfigMap").values()))["data"]


def container(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][0]


def env(obj: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container(obj).get("env", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid(overlay, version):
    found = {f"{o['kind']}/{o['metadata']['name']}": problems(o, version) for o in rendered(overlay)}
    assert {name: errors for name, errors in found.items() if errors} == {}


def test_a_wrong_manifest_is_refused():
    deployment = next(yaml.safe_load_all((ROOT / "deploy/k8s/base/portal.yaml").read_text()))
    deployment["spec"]["replicas"] = "two"
    assert problems(deployment, KUBERNETES_VERSIONS[-1])
    deployment = next(yaml.safe_load_all((ROOT / "deploy/k8s/base/portal.yaml").read_text()))
    container(deployment)["livenesProbe"] = container(deployment).pop("livenessProbe")  # misspelt: strict refuses
    assert problems(deployment, KUBERNETES_VERSIONS[-1])
    user = next(yaml.safe_load_all((ROOT / "deploy/k8s/base/kafka-users.yaml").read_text()))
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Reed"]
    assert problems(user, KUBERNETES_VERSIONS[-1])
    topic = next(yaml.safe_load_all((ROOT / "deploy/k8s/base/kafka-topics.yaml").read_text()))
    del topic["metadata"]["labels"]
    assert problems(topic, KUBERNETES_VERSIONS[-1])


def test_kustomize_refuses_a_broken_kustomization(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    assert kustomize(tmp_path).returncode != 0


def test_one_deployment_per_process_that_compose_runs_from_our_image():
    ours = {name for name, spec in compose_config()["services"].items()
            if spec.get("build", {}).get("dockerfile") == "Dockerfile" and spec.get("restart") != "no"}
    for overlay in OVERLAYS:
        assert set(of_kind(overlay, "Deployment")) - {"mailpit"} == ours


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_the_images_user_on_a_read_only_root_with_writable_volumes(overlay):
    uid, gid = uid_gid(image("registration").user)
    for name, obj in {**of_kind(overlay, "Deployment"), **of_kind(overlay, "Job")}.items():
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        if name != "mailpit":
            assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (uid, gid), name
        security = container(obj)["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        mounts = {m["mountPath"]: m["name"] for m in container(obj).get("volumeMounts", [])}
        empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        if name != "mailpit":
            assert mounts.get("/tmp") in empty_dirs, name
        if container(obj).get("args") == ["worker"]:  # faust's data folder, the image's EMM_CACHE_DIR
            assert mounts.get(image("registration").env["EMM_CACHE_DIR"]) in empty_dirs, name
        memory = container(obj)["resources"]
        assert memory["requests"]["memory"] and memory["limits"]["memory"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_ask_what_each_process_serves(overlay):
    for name, obj in of_kind(overlay, "Deployment").items():
        if name == "mailpit":
            continue
        c = container(obj)
        probes = (c["livenessProbe"]["httpGet"]["path"], c["readinessProbe"]["httpGet"]["path"])
        assert probes == (("/metrics", "/metrics") if c["args"] == ["worker"] else ("/healthz", "/readyz")), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets_and_worker_autoscaling_bounded_by_the_partitions(overlay):
    deployments = of_kind(overlay, "Deployment")
    budgets = {pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
               for pdb in of_kind(overlay, "PodDisruptionBudget").values()}
    assert set(deployments) - {"mailpit"} <= budgets
    partitions = int(settings(overlay)["EMM_TOPIC_PARTITIONS"])
    autoscalers = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(overlay, "HorizontalPodAutoscaler").values()}
    workers = {name for name, d in deployments.items() if container(d).get("args") == ["worker"]}
    assert set(autoscalers) == workers and workers
    for autoscaler in autoscalers.values():
        assert autoscaler["spec"]["maxReplicas"] == partitions
    assert {t["spec"]["partitions"] for t in of_kind(overlay, "KafkaTopic").values()} == {partitions}


@pytest.mark.parametrize("overlay, replicas, min_insync", [("local", 1, 1), ("production", 3, 2)])
def test_topics_are_the_contracts_with_replication_and_retention_for_replay(overlay, replicas, min_insync):
    topics = of_kind(overlay, "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics.values()} == all_topics()
    for topic in topics.values():
        assert topic["spec"]["replicas"] == replicas
        assert topic["spec"]["config"]["min.insync.replicas"] == min_insync
        assert topic["spec"]["config"]["retention.ms"] == -1
    job = env(of_kind(overlay, "Job")["create-topics"])
    assert (job["EMM_TOPIC_REPLICATION_FACTOR"]["value"], job["EMM_TOPIC_MIN_INSYNC_REPLICAS"]["value"],
            job["EMM_TOPIC_RETENTION_MS"]["value"]) == (str(replicas), str(min_insync), "-1")
    assert container(of_kind(overlay, "Job")["create-topics"])["args"] == ["python", "-m", "emm_common.provision_topics"]
    kafka = of_kind(overlay, "Kafka")["emm-kafka"]["spec"]["kafka"]["config"]
    assert kafka["default.replication.factor"] == replicas and kafka["min.insync.replicas"] == min_insync
    pool = of_kind(overlay, "KafkaNodePool")["dual"]["spec"]
    assert pool["replicas"] == replicas and set(pool["roles"]) == {"controller", "broker"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_its_own_kafka_and_mongodb_principal(overlay):
    users = of_kind(overlay, "KafkaUser")
    mongo_users = {u["connectionStringSecretName"]: u for u in of_kind(overlay, "MongoDBCommunity")["emm-mongodb"]
                   ["spec"]["users"]}
    listener = of_kind(overlay, "Kafka")["emm-kafka"]["spec"]["kafka"]["listeners"][0]
    assert listener["authentication"]["type"] == "scram-sha-512"
    assert settings(overlay)["KAFKA_BOOTSTRAP_SERVERS"] == f"emm-kafka-kafka-bootstrap:{listener['port']}"
    for name, obj in {**of_kind(overlay, "Deployment"), **of_kind(overlay, "Job")}.items():
        variables = env(obj)
        if name in ("mailpit", "portal"):
            assert "KAFKA_SASL_USERNAME" not in variables and "MONGODB_URI" not in variables
            continue
        principal = variables["KAFKA_SASL_USERNAME"]["value"]
        assert principal in users, name
        assert users[principal]["spec"]["authentication"]["type"] == "scram-sha-512"
        assert variables["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == principal, name
        if name != "create-topics":
            secret = variables["MONGODB_URI"]["valueFrom"]["secretKeyRef"]
            service = obj["spec"]["template"]["spec"]["containers"][0]["image"].rsplit("/", 1)[-1].split(":")[0]
            assert mongo_users[secret["name"]]["roles"][0] == {"name": "readWrite", "db": f"emm_{service}"}, name


def test_kafka_users_grant_what_the_broker_access_table_grants():
    broker_access = pytest.importorskip("emm_common.broker_access")
    wanted: dict[str, set[tuple[str, str, str, str]]] = {}
    for grant in broker_access.grants():
        principal = grant.principal.removeprefix("User:")
        wanted.setdefault(principal, set()).add((grant.resource.lower(), grant.name,
                                                 "prefix" if grant.prefixed else "literal", grant.operation.lower()))
    users = of_kind("production", "KafkaUser")
    for principal, grants in wanted.items():
        acls = users[principal]["spec"]["authorization"]["acls"]
        have = {(acl["resource"]["type"], acl["resource"]["name"], acl["resource"]["patternType"], operation.lower())
                for acl in acls for operation in acl["operations"]}
        assert have == grants, principal


def test_private_signing_key_only_where_tokens_are_issued():
    for name, obj in of_kind("production", "Deployment").items():
        keys = next((v for v in obj["spec"]["template"]["spec"].get("volumes", []) if v["name"] == "keys"), None)
        files = {item["path"] for item in keys["secret"]["items"]} if keys else set()
        issues = name in ("registration-api", "notification-api", "notification-worker")  # the lifecycle clock issues none
        assert ("jwt-ed25519.pem" in files) == issues == ("EMM_JWT_PRIVATE_KEY_FILE" in env(obj)), name
        if keys:
            assert keys["secret"]["defaultMode"] == 0o440, name


def test_production_kafka_clients_speak_tls_to_a_tls_listener_and_trust_its_ca():
    listener = of_kind("production", "Kafka")["emm-kafka"]["spec"]["kafka"]["listeners"][0]
    assert listener["tls"] is True
    ca_file = Path(settings("production")["KAFKA_SSL_CAFILE"])
    for name, obj in {**of_kind("production", "Deployment"), **of_kind("production", "Job")}.items():
        if "KAFKA_SASL_USERNAME" not in env(obj):
            continue
        mounts = {m["mountPath"]: m["name"] for m in container(obj)["volumeMounts"]}
        volume = next(v for v in obj["spec"]["template"]["spec"]["volumes"] if v["name"] == mounts[str(ca_file.parent)])
        assert volume["secret"]["secretName"] == "emm-kafka-cluster-ca-cert", name
        assert {"key": "ca.crt", "path": ca_file.name} in volume["secret"]["items"], name
    assert "KAFKA_SSL_CAFILE" not in settings("local")  # the local cluster's listener is plain SCRAM


def test_in_production_the_portal_is_the_one_public_entry_on_the_public_address():
    from urllib.parse import urlsplit

    ingresses = of_kind("production", "Ingress")
    assert list(ingresses) == ["portal"]
    rule = ingresses["portal"]["spec"]["rules"][0]
    assert rule["host"] == urlsplit(settings("production")["EMM_PUBLIC_BASE_URL"]).hostname
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "portal"
    assert ingresses["portal"]["spec"]["tls"][0]["hosts"] == [rule["host"]]
