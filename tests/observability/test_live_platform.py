"""The platform observed from outside, as an operator sees it: the six processes (registration's API
and lifecycle clock, evaluation's and notification's APIs and workers) as real processes on the real
broker, database and SMTP capture; one participant enrolls with a W3C `traceparent`, a malformed
record lands on the enrollments topic, and then:

- every metric name used by the Grafana dashboard and by the alert rules is in a live scrape;
- the enrollment is followed from the API to the email through every process's log by one grep
  for its trace id;
- every log line of every process is one JSON object with the common fields;
- no log line holds the participant's email, name or any token.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from emm_common.auth import TokenIssuer, ensure_key_pair
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA, MAIL_READER, delete_topics
from tests.processes import ServiceProcess, drop_databases

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

ROOT = Path(__file__).parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
METRIC_NAME = re.compile(r"\b(emm_[a-z0-9_]+)\b")
LOG_FIELDS = {"time", "level", "service", "logger", "message"}
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "summary": ["_sum", "_count"]}
FAST = {"OUTBOX_POLL_SECONDS": "0.5", "CONSUMER_LAG_SECONDS": "3", "CONSUMER_SESSION_TIMEOUT_SECONDS": "6"}


def session_body() -> dict:
    return {"title": "EMM2.0 Training-of-Trainers, observed", "kind": "training_of_trainers",
            "modules": ["migration-governance"], "organizing_office": "RO Dakar", "city": "Dakar", "country": "SN",
            "venue": "IOM Regional Office", "start_date": "2027-05-19", "end_date": "2027-05-20",
            "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 12,
            "facilitator_ids": ["par-facilitator"], "target_audience": "IBM project managers"}


def wait_for(check, what: str, timeout: float = 240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout}s: {what}")


def log_path(process: ServiceProcess) -> Path:
    import os

    return Path(os.environ.get("TMPDIR", "/tmp")) / f"emm-{process.prefix}{process.service}-{process.kind}.log"


class Platform:
    """The processes, what the test did, and what came out."""

    def __init__(self, processes: list[ServiceProcess], traceparent: str, person: dict, secrets: list[str]) -> None:
        self.processes = processes
        self.traceparent = traceparent
        self.person = person
        self.secrets = secrets  # tokens that must never be logged

    def lines(self) -> dict[str, list[str]]:
        return {f"{p.service}-{p.kind}": log_path(p).read_text(errors="replace").splitlines() for p in self.processes}

    def scrape(self, declared: bool = False) -> set[str]:
        """The names of the samples every process exposes; with `declared`, also the names of the
        metrics a process declares (# TYPE) that have no labelled series yet, e.g. no retries so far."""
        names: set[str] = set()
        for process in self.processes:
            text = httpx.get(f"{process.url}/metrics", timeout=10).text
            for family in text_string_to_metric_families(text):
                names |= {sample.name for sample in family.samples}
                if declared:
                    names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, [""])}
        return names


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    unique = uuid.uuid4().hex[:10]
    prefix = f"t{unique}."
    keys = tmp_path_factory.mktemp("keys")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    issuer = TokenIssuer((keys / "jwt.pem").read_bytes())
    import asyncio

    asyncio.run(ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, 3))

    def process(service: str, kind: str, **env: str) -> ServiceProcess:
        upper = service.upper()
        return ServiceProcess(service, kind, prefix, f"test_{unique}_{service}", keys,
                              env={**{f"{upper}_{k}": v for k, v in FAST.items()}, **env})

    processes = [process("registration", "api"), process("registration", "worker"),
                 process("evaluation", "api"), process("evaluation", "worker"),
                 process("notification", "api"),
                 process("notification", "worker", NOTIFICATION_DELIVERY_POLL_SECONDS="0.2")]
    for p in processes:
        p.start(wait=False)
    try:
        for p in processes:
            p.wait_until_answering(timeout=120)
        registration = next(p for p in processes if (p.service, p.kind) == ("registration", "api"))
        organizer = {"Authorization": f"Bearer {issuer.issue('org-observer', 'organizer', regional=True)}"}
        person = {"email": f"aminata.obs{unique}@example.org", "full_name": f"Aminata Obs{unique}",
                  "country": "SN", "preferred_language": "fr", "consent_to_contact": True, "organization": "IOM",
                  "job_title": "Project manager", "sex": "female"}
        traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
        with httpx.Client(base_url=registration.url, timeout=60, headers=organizer) as client:
            session = client.post("/sessions", json=session_body())
            assert session.status_code == 201, session.text
            session_id = session.json()["session"]["session_id"]
            enrolled = client.post(f"/sessions/{session_id}/enrollments", json=person,
                                   headers={"traceparent": traceparent})
            assert enrolled.status_code == 201, enrolled.text
            assert enrolled.headers["traceparent"] == traceparent
        asyncio.run(send_poison(topic_name("emm.enrollments", prefix)))
        message = wait_for(lambda: first_message_to(person["email"]), f"an email to {person['email']}")
        secrets = [organizer["Authorization"].split()[1], *link_tokens(message)]
        platform = Platform(processes, traceparent, person, secrets)
        # what the metrics test needs to have happened: a dead letter counted, an email sent, lag reported
        wait_for(lambda: {"emm_events_dead_lettered_total", "emm_smtp_send_seconds_bucket",
                          "emm_consumer_lag_records"} <= platform.scrape(), "the dead letter, email and lag metrics")
        wait_for(lambda: any("sent notification" in line for line in platform.lines()["notification-worker"]),
                 "the email sender's log line")
        yield platform
    finally:
        for p in processes:
            p.stop()
        asyncio.run(delete_topics(prefix))
        drop_databases(unique)


async def send_poison(topic: str) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"this is not a CloudEvent", key=b"poison")
    finally:
        await producer.stop()


def first_message_to(address: str) -> bytes | None:
    listed = httpx.get(f"{MAIL_READER}/messages", params={"to": address}, timeout=5).json()
    if not listed:
        return None
    return httpx.get(f"{MAIL_READER}/messages/{listed[0]['id']}.eml", timeout=5).content


def link_tokens(raw: bytes) -> list[str]:
    """The tokens of the links in an email (its personal sign-in link)."""
    message = message_from_bytes(raw, policy=policy.default)
    text = "\n".join(part.get_content() for part in message.walk() if part.get_content_type() == "text/plain")
    tokens = []
    for url in re.findall(r"https?://\S+", text):
        for values in parse_qs(urlsplit(url).query).values():
            tokens += [value for value in values if len(value) >= 20]
    assert tokens, "the email has no personal link"
    return tokens


def expressions() -> dict[str, str]:
    """Every PromQL expression of every dashboard panel and alert rule, by where it is."""
    found = {}
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                found[f"{path.name}: {panel['title']}"] = target["expr"]
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            found[f"alerts.yml: {rule.get('alert') or rule.get('record')}"] = rule["expr"]
    return found


def test_every_metric_of_the_dashboard_and_the_alerts_is_in_a_live_scrape(platform):
    scraped = platform.scrape(declared=True)
    missing = {where: sorted(set(METRIC_NAME.findall(expr)) - scraped) for where, expr in expressions().items()}
    assert not {where: names for where, names in missing.items() if names}
    assert len(expressions()) > 20


def test_every_process_reports_its_dependencies_and_what_runs(platform):
    for process in platform.processes:
        text = httpx.get(f"{process.url}/metrics", timeout=10).text
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
        up = {s.labels["dependency"]: s.value for s in samples if s.name == "emm_dependency_up"}
        assert up == {"kafka": 1.0, "mongodb": 1.0}, (process.service, process.kind, up)
        [build] = [s.labels for s in samples if s.name == "emm_build_info"]
        assert build["service"] == process.service and build["version"], build


def test_outbox_backlog_is_exported_and_empty_once_everything_is_published(platform):
    text = httpx.get(f"{platform.processes[0].url}/metrics", timeout=10).text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    pending = {s.labels["collection"]: s.value for s in samples if s.name == "emm_outbox_pending"}
    assert pending and set(pending.values()) == {0.0}, pending


def test_one_enrollment_is_followed_from_the_api_to_the_email_by_its_trace_id(platform):
    trace_id = platform.traceparent.split("-")[1]
    followed = {name: [json.loads(line) for line in lines if trace_id in line]
                for name, lines in platform.lines().items()}
    api = followed["registration-api"]
    assert any(entry["logger"] == "emm.access" and entry["route"] == "/sessions/{session_id}/enrollments"
               and entry["status"] == 201 and entry["method"] == "POST" for entry in api), api
    for worker in ("evaluation-worker", "notification-worker"):
        applied = [e for e in followed[worker] if e["message"].startswith("applied event")]
        assert any(e["event_type"] == "org.iom.emm.enrollment.registered.v1" for e in applied), (worker, applied)
        assert all(e["correlation_id"] == trace_id and e["event_id"] and e["subject"] for e in applied)
    assert any(e["message"].startswith("sent notification") for e in followed["notification-worker"])


def test_every_log_line_of_every_process_is_one_json_object_with_the_common_fields(platform):
    for name, lines in platform.lines().items():
        assert lines, f"{name} logged nothing"
        for line in lines:
            entry = json.loads(line)
            assert LOG_FIELDS <= set(entry), (name, line)
            assert entry["service"] == name.split("-")[0], (name, line)
    faust = [line for line in platform.lines()["evaluation-worker"] if '"logger": "faust' in line]
    assert faust, "faust's own lines are in the same format"


def test_no_log_line_holds_the_participants_email_name_or_a_token(platform):
    forbidden = [platform.person["email"], platform.person["full_name"], platform.person["full_name"].split()[-1],
                 *platform.secrets, *(secret.split(".")[-1] for secret in platform.secrets if "." in secret)]
    for name, lines in platform.lines().items():
        for line in lines:
            for value in forbidden:
                assert value.lower() not in line.lower(), f"{name} logged personal data or a token: {line}"
