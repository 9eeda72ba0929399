"""Demo data: the seed's Dakar Training-of-Trainers, replayed through the real APIs.

Two 2-day ToT sessions in Dakar (17-18 May for RO Dakar senior staff; 19-20 May for 12 IBM
project managers, French and English speakers), one of them overbooked so the waitlist is used,
one cancellation that promotes the first waitlisted person, daily attendance with one missed
day; then every trainee practises a module and is rated by the facilitator, everyone answers the
evaluation (all agree or strongly agree that the ToT will help their work), the sessions complete,
those who meet the rules are certified, and a country office schedules a government training
delivered by two of the new trainers. Safe to run again: the sessions have fixed ids, and once they exist nothing is added.

    python deploy/local/demo.py [--registration http://127.0.0.1:8001]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

from emm_common.auth import TokenIssuer

KEYS = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot")) / "keys"
YEAR = 2026

SESSIONS = [
    {"session_id": "ses-dakar-tot-1", "title": "EMM2.0 Training-of-Trainers - RO Dakar senior staff",
     "kind": "training_of_trainers", "modules": ["migration-governance", "labour-mobility", "migration-and-development"],
     "organizing_office": "RO Dakar", "city": "Dakar", "country": "SN", "venue": "IOM Regional Office for WCA",
     "start_date": f"{YEAR}-05-17", "end_date": f"{YEAR}-05-18", "timezone": "Africa/Dakar",
     "languages": ["fr", "en"], "capacity": 10, "facilitator_ids": ["par-emm-facilitator-1"],
     "target_audience": "Regional Thematic Specialists, RLPO, heads of unit"},
    {"session_id": "ses-dakar-tot-2", "title": "EMM2.0 Training-of-Trainers - IBM project managers",
     "kind": "training_of_trainers", "modules": ["border-management", "migration-governance"],
     "organizing_office": "RO Dakar (IBM RTS)", "city": "Dakar", "country": "SN",
     "venue": "IOM Regional Office for WCA", "start_date": f"{YEAR}-05-19", "end_date": f"{YEAR}-05-20",
     "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 12,
     "facilitator_ids": ["par-emm-facilitator-1"], "target_audience": "IBM project managers in WCA"},
]

SENIOR_STAFF = [("Aminata Diallo", "SN", "fr", "female", "Regional Thematic Specialist"),
                ("Jean-Baptiste Kaboré", "BF", "fr", "male", "Regional Liaison and Policy Officer"),
                ("Grace Mensah", "GH", "en", "female", "Head of Media and Communication"),
                ("Moussa Traoré", "ML", "fr", "male", "Programme Manager"),
                ("Fatoumata Camara", "GN", "fr", "female", "Regional Thematic Specialist"),
                ("Emmanuel Okafor", "NG", "en", "male", "Senior Programme Manager"),
                ("Mariama Bah", "SL", "en", "female", "Awareness Raising Officer"),
                ("Cheikh Ndiaye", "SN", "fr", "male", "Regional Data Officer")]
IBM_MANAGERS = [("Awa Sow", "SN", "fr", "female"), ("Koffi Mensah", "TG", "fr", "male"),
                ("Adjoa Asante", "GH", "en", "female"), ("Ibrahim Sanogo", "CI", "fr", "male"),
                ("Ngozi Eze", "NG", "en", "female"), ("Ousmane Diop", "SN", "fr", "male"),
                ("Aïcha Touré", "NE", "fr", "female"), ("Samuel Boateng", "GH", "en", "male"),
                ("Mamadou Keïta", "ML", "fr", "male"), ("Hawa Coulibaly", "BF", "fr", "female"),
                ("Yaw Owusu", "GH", "en", "male"), ("Fanta Konaté", "GN", "fr", "female"),
                ("Chidi Nwosu", "NG", "en", "male"), ("Rokia Dembélé", "ML", "fr", "female")]


def email_of(name: str) -> str:
    ascii_name = name.lower().replace(" ", ".").encode("ascii", "ignore").decode()
    return f"{ascii_name}@example.org"


def person(name: str, country: str, language: str, sex: str, title: str) -> dict:
    return {"email": email_of(name), "full_name": name, "country": country, "preferred_language": language,
            "sex": sex, "consent_to_contact": True, "organization": "IOM", "job_title": title}


def call(client: httpx.Client, method: str, path: str, **kwargs) -> dict:
    response = client.request(method, path, **kwargs)
    if response.status_code >= 400:
        raise SystemExit(f"[demo] {method} {path} failed: {response.status_code} {response.text[:300]}")
    return response.json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registration", default="http://127.0.0.1:8001")
    parser.add_argument("--evaluation", default="http://127.0.0.1:8002")
    args = parser.parse_args()
    issuer = TokenIssuer((KEYS / "jwt-ed25519.pem").read_bytes())
    organizer = {"Authorization": f"Bearer {issuer.issue('usr-emm-team', 'organizer')}"}
    facilitator = {"Authorization": f"Bearer {issuer.issue('par-emm-facilitator-1', 'facilitator')}"}

    with httpx.Client(base_url=args.registration, timeout=60, headers=organizer) as client:
        created = [client.post("/sessions", json=session).status_code for session in SESSIONS]
        if created == [200, 200]:
            print("[demo] the Dakar sessions are there already; nothing to add")
            return 0
        senior = [person(*p) for p in SENIOR_STAFF]
        ibm = [person(*p, "IBM Project Manager") for p in IBM_MANAGERS]
        tokens: dict[str, str] = {}  # participant id -> token scoped to their enrollment
        for made in call(client, "POST", "/sessions/ses-dakar-tot-1/enrollments/bulk", json={"participants": senior}):
            tokens[made["enrollment"]["participant_id"]] = made["participant_token"]
        # 14 people for 12 seats: the last two wait; one cancellation promotes the first of them
        enrolled = call(client, "POST", "/sessions/ses-dakar-tot-2/enrollments/bulk", json={"participants": ibm})
        tokens.update({made["enrollment"]["participant_id"]: made["participant_token"] for made in enrolled})
        cancelling = enrolled[3]["enrollment"]
        if cancelling["status"] == "registered":
            call(client, "POST", f"/sessions/ses-dakar-tot-2/enrollments/{cancelling['enrollment_id']}/cancellation",
                 json={"reason": "Called away on mission"})
        for session in SESSIONS:
            sid = session["session_id"]
            current = call(client, "GET", f"/sessions/{sid}")["session"]["status"]
            if current == "scheduled":
                call(client, "POST", f"/sessions/{sid}/status", json={"status": "in_progress"})
            roster = call(client, "GET", f"/sessions/{sid}/roster")["registered"]
            for day_index, day in enumerate([session["start_date"], session["end_date"]]):
                marks = [{"participant_id": e["participant_id"],
                          "status": "absent" if (day_index == 1 and i == 0 and sid.endswith("2")) else "present"}
                         for i, e in enumerate(roster)]
                call(client, "PUT", f"/sessions/{sid}/attendance/{day}", json={"marks": marks},
                     headers=facilitator)
            print(f"[demo] {sid}: {len(roster)} registered, attendance taken for 2 days")
            evaluate(args.evaluation, session, roster, tokens, facilitator)
            call(client, "POST", f"/sessions/{sid}/status", json={"status": "completed"})
        organizer_of_evaluation = {"Authorization": organizer["Authorization"]}
        trainers = wait_for_trainers(args.evaluation, organizer_of_evaluation, at_least=2)
        delivery = {**GOVERNMENT_TRAINING, "facilitator_ids": [t["participant_id"] for t in trainers[:2]]}
        call(client, "POST", "/sessions", json=delivery)
        report = call(httpx.Client(base_url=args.evaluation, timeout=60), "GET", "/sessions/ses-dakar-tot-2/report",
                      headers=organizer_of_evaluation, params={"language": "en"})
        for line in report.get("headlines", [])[:2]:
            print(f"[demo] report: {line}")
        print(f"[demo] trainer pool: {len(trainers)} certified EMM2.0 trainers; government training "
              f"{delivery['session_id']} delivered by {', '.join(t['full_name'] for t in trainers[:2])}")
    print("[demo] done: open http://127.0.0.1:8001/docs and :8002/docs (make token ROLE=organizer), "
          "captured emails at http://127.0.0.1:8025/messages")
    return 0


GOVERNMENT_TRAINING = {
    "session_id": "ses-abidjan-gov-1", "title": "EMM2.0 training for government officials - Côte d'Ivoire",
    "kind": "government_delivery", "modules": ["migration-governance"], "organizing_office": "CO Abidjan",
    "city": "Abidjan", "country": "CI", "start_date": f"{YEAR + 1}-02-10", "end_date": f"{YEAR + 1}-02-12",
    "timezone": "Africa/Abidjan", "languages": ["fr"], "capacity": 25,
    "target_audience": "Officials of the Ministry of the Interior and Security"}

ANSWERS = {"work_performance": 5, "methodology": 5, "content_quality": 5, "facilitation": 5, "relevance": 4,
           "organization": 4, "recommend": 10}


def evaluate(base_url: str, session: dict, roster: list[dict], tokens: dict[str, str], facilitator: dict) -> None:
    """Peer feedback on each trainee's practice delivery, then everyone's evaluation."""
    sid = session["session_id"]
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for i, enrollment in enumerate(roster):
            pid = enrollment["participant_id"]
            scores = {"content_mastery": 4, "clarity": 5, "participant_engagement": 4, "time_management": 4,
                      "adult_learning_methods": 4 + i % 2}
            retrying(client, "POST", f"/sessions/{sid}/peer-feedback", headers=facilitator,
                     json={"peer_feedback_id": f"pf-{sid}-{pid}", "trainee_participant_id": pid,
                           "module": session["modules"][i % len(session["modules"])], "scores": scores,
                           "comment": "Clear, engaging delivery; kept to time."})
            answers = [{"item_id": k, "value": v if i % 3 else max(4, v - 1) if k != "recommend" else 9}
                       for k, v in ANSWERS.items()]
            if i == 0:
                answers.append({"item_id": "comments", "value": "This is the best training I've had at IOM!"})
            retrying(client, "POST", f"/sessions/{sid}/feedback",
                     headers={"Authorization": f"Bearer {tokens[pid]}"},
                     json={"submission_id": f"sub-{sid}-{pid}", "language": "en", "anonymous": i == 0,
                           "answers": answers})


def retrying(client: httpx.Client, method: str, path: str, attempts: int = 60, **kwargs) -> dict:
    """Call, retrying while the evaluation service has not yet projected what the call refers to (409)."""
    for _ in range(attempts):
        response = client.request(method, path, **kwargs)
        if response.status_code != 409:
            break
        time.sleep(0.5)
    if response.status_code >= 400:
        raise SystemExit(f"[demo] {method} {path} failed: {response.status_code} {response.text[:300]}")
    return response.json()


def wait_for_trainers(base_url: str, headers: dict, at_least: int, timeout: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client:
        while True:
            trainers = call(client, "GET", "/trainers")
            if len(trainers) >= at_least or time.monotonic() > deadline:
                return sorted(trainers, key=lambda t: t["participant_id"])
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
