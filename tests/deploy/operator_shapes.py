"""JSON Schemas of the operators' custom resources we use, by shape: the fields, types and allowed
values of Strimzi's kafka.strimzi.io/v1beta2 (0.48) and the MongoDB Community Operator's
mongodbcommunity.mongodb.com/v1 API references, closed (`additionalProperties: false`) where we write
them so that a misspelt field or value is refused.

Their real CRD schemas are in no package registry this project can reach: Strimzi's Maven artifact
io.strimzi:api (checked: 0.48.0) holds the model classes but not the generated CRD YAML, and the
operators' CRDs are published with their release bundles and charts only.
"""

from __future__ import annotations

from typing import Any


def closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


def strings(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


OPEN = {"type": "object"}  # passed through to Kafka, mongod or a pod template as they are
INTEGER = {"type": "integer"}
STRING = {"type": "string"}
RESOURCES = closed({"requests": OPEN, "limits": OPEN})
CLUSTER_LABEL = {"type": "object", "required": ["labels"],
                 "properties": {"labels": {"type": "object", "required": ["strimzi.io/cluster"]}}}


def resource(api_version: str, kind: str, spec: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict:
    return {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {"apiVersion": {"const": api_version}, "kind": {"const": kind},
                           "metadata": {"allOf": [{"type": "object", "required": ["name"]}, metadata or {}]},
                           "spec": spec}}


STRIMZI = "kafka.strimzi.io/v1beta2"
VOLUME = closed({"id": INTEGER, "type": strings("ephemeral", "persistent-claim"), "size": STRING,
                 "sizeLimit": STRING, "class": STRING, "deleteClaim": {"type": "boolean"},
                 "kraftMetadata": strings("shared")}, ["type"])
LISTENER = closed({"name": {"type": "string", "pattern": "^[a-z0-9]{1,11}$"}, "port": {"type": "integer", "minimum": 9092},
                   "type": strings("internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"),
                   "tls": {"type": "boolean"},
                   "authentication": closed({"type": strings("tls", "scram-sha-512", "oauth", "custom")}, ["type"]),
                   "configuration": OPEN}, ["name", "port", "type", "tls"])
ACL = closed({"resource": closed({"type": strings("topic", "group", "cluster", "transactionalId"), "name": STRING,
                                  "patternType": strings("literal", "prefix")}, ["type"]),
              "operations": {"type": "array", "minItems": 1, "items": strings(
                  "Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs",
                  "DescribeConfigs", "IdempotentWrite", "All")},
              "host": STRING, "type": strings("allow", "deny")}, ["resource", "operations"])

SHAPES: dict[tuple[str, str], dict[str, Any]] = {
    (STRIMZI, "Kafka"): resource(STRIMZI, "Kafka", closed({
        "kafka": closed({"version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"}, "metadataVersion": STRING,
                         "listeners": {"type": "array", "minItems": 1, "items": LISTENER},
                         "authorization": closed({"type": strings("simple", "opa", "keycloak", "custom"),
                                                  "superUsers": {"type": "array", "items": STRING}}, ["type"]),
                         "config": OPEN, "template": OPEN, "rack": OPEN, "metricsConfig": OPEN},
                        ["listeners"]),
        "entityOperator": closed({"topicOperator": OPEN, "userOperator": OPEN, "template": OPEN}),
        "cruiseControl": OPEN, "kafkaExporter": OPEN}, ["kafka"]),
        {"type": "object", "required": ["annotations"], "properties": {"annotations": {
            "type": "object", "required": ["strimzi.io/node-pools", "strimzi.io/kraft"],
            "properties": {"strimzi.io/node-pools": {"const": "enabled"}, "strimzi.io/kraft": {"const": "enabled"}}}}}),
    (STRIMZI, "KafkaNodePool"): resource(STRIMZI, "KafkaNodePool", closed({
        "replicas": {"type": "integer", "minimum": 0},
        "roles": {"type": "array", "minItems": 1, "items": strings("controller", "broker")},
        "storage": closed({"type": strings("ephemeral", "persistent-claim", "jbod"),
                           "volumes": {"type": "array", "items": VOLUME}, "size": STRING}, ["type"]),
        "resources": RESOURCES, "jvmOptions": OPEN, "template": OPEN}, ["replicas", "roles", "storage"]),
        CLUSTER_LABEL),
    (STRIMZI, "KafkaTopic"): resource(STRIMZI, "KafkaTopic", closed({
        "topicName": STRING, "partitions": {"type": "integer", "minimum": 1},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 32767}, "config": OPEN}), CLUSTER_LABEL),
    (STRIMZI, "KafkaUser"): resource(STRIMZI, "KafkaUser", closed({
        "authentication": closed({"type": strings("tls", "tls-external", "scram-sha-512"), "password": OPEN},
                                 ["type"]),
        "authorization": closed({"type": strings("simple"), "acls": {"type": "array", "items": ACL}},
                                ["type", "acls"]),
        "quotas": OPEN, "template": OPEN}), CLUSTER_LABEL),
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): resource(
        "mongodbcommunity.mongodb.com/v1", "MongoDBCommunity", closed({
            "members": {"type": "integer", "minimum": 1}, "arbiters": INTEGER, "type": strings("ReplicaSet"),
            "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
            "featureCompatibilityVersion": STRING,
            "security": closed({"authentication": closed({
                "modes": {"type": "array", "minItems": 1,
                          "items": strings("SCRAM", "SCRAM-SHA-1", "SCRAM-SHA-256", "X509")},
                "ignoreUnknownUsers": {"type": "boolean"}}, ["modes"]), "tls": OPEN, "roles": OPEN}),
            "users": {"type": "array", "items": closed({
                "name": STRING, "db": STRING,
                "passwordSecretRef": closed({"name": STRING, "key": STRING}, ["name"]),
                "roles": {"type": "array", "minItems": 1, "items": closed({"name": STRING, "db": STRING},
                                                                             ["name", "db"])},
                "scramCredentialsSecretName": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
                "connectionStringSecretName": STRING, "connectionStringSecretNamespace": STRING,
                "additionalConnectionStringConfig": OPEN},
                ["name", "db", "passwordSecretRef", "roles", "scramCredentialsSecretName"])},
            "additionalMongodConfig": OPEN, "additionalConnectionStringConfig": OPEN,
            "statefulSet": closed({"spec": OPEN, "metadata": OPEN}, ["spec"]),
            "replicaSetHorizons": OPEN, "prometheus": OPEN, "agent": OPEN},
            ["type", "version", "security", "users"])),
}
