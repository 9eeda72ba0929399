"""The seed's Dakar Training-of-Trainers as one scenario, replayed through the real APIs.

Two 2-day ToT sessions in Dakar (17-18 May for RO Dakar senior staff; 19-20 May for 12 IBM
project managers, French and English speakers). The second is overbooked (14 people for 12 seats)
so two wait; one registered person cancels and the first waitlisted is promoted. Facilitators mark
attendance for each day (one person misses the second day). Every trainee practises a module and
is rated by the facilitator, everyone answers the evaluation (all agree or strongly agree that the
ToT will help their work), the sessions complete, those who meet the rules are certified, and a
country office schedules a government training delivered by two of the new trainers.

One copy for two users: `deploy/local/demo.py` runs it against the services of `make run` with
the fixed ids below; `tests/e2e/test_dakar_scenario.py` runs it against its own processes with a
`suffix` on every session id and email address, so that its emails on the shared
SMTP capture and its events are its own. Synchronous (httpx) so that the demo stays a plain script.

`clocked`: nobody moves the sessions; registration's lifecycle clock does, on a programme time
that starts before 17 May and runs fast (EMM_CLOCK_*). The scenario then waits for each session
to start, takes each day's attendance once that day has come where the session takes place, and
waits for the clock to complete the session. Without it, the organizer moves them, as by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import httpx

from emm_common.paging import next_link

YEAR = 2026
ORGANIZER = "usr-emm-team"
# The facilitator of both Dakar sessions, in the staff directory (so she signs in and gets the digests).
FACILITATOR = {"full_name": "Mariama Faye", "preferred_language": "fr", "role": "facilitator", "offices": ["RO Dakar"]}

# (full name, country, preferred language, sex, job title)
SENIOR_STAFF = [("Aminata Diallo", "SN", "fr", "female", "Regional Thematic Specialist"),
                ("Jean-Baptiste Kaboré", "BF", "fr", "male", "Regional Liaison and Policy Officer"),
                ("Grace Mensah", "GH", "en", "female", "Head of Media and Communication"),
                ("Moussa Traoré", "ML", "fr", "male", "Programme Manager"),
                ("Fatoumata Camara", "GN", "fr", "female", "Regional Thematic Specialist"),
                ("Emmanuel Okafor", "NG", "en", "male", "Senior Programme Manager"),
                ("Mariama Bah", "SL", "en", "female", "Awareness Raising Officer"),
                ("Cheikh Ndiaye", "SN", "fr", "male", "Regional Data Officer")]
IBM_TITLE = "IBM Project Manager"
IBM_MANAGERS = [("Awa Sow", "SN", "fr", "female"), ("Koffi Mensah", "TG", "fr", "male"),
                ("Adjoa Asante", "GH", "en", "female"), ("Ibrahim Sanogo", "CI", "fr", "male"),
                ("Ngozi Eze", "NG", "en", "female"), ("Ousmane Diop", "SN", "fr", "male"),
                ("Aïcha Touré", "NE", "fr", "female"), ("Samuel Boateng", "GH", "en", "male"),
                ("Mamadou Keïta", "ML", "fr", "male"), ("Hawa Coulibaly", "BF", "fr", "female"),
                ("Yaw Owusu", "GH", "en", "male"), ("Fanta Konaté", "GN", "fr", "female"),
                ("Chidi Nwosu", "NG", "en", "male"), ("Rokia Dembélé", "ML", "fr", "female")]

CANCELLING = "Ibrahim Sanogo"  # called away: their seat in session 2 goes to the first waitlisted
MISSES_DAY_2 = "Awa Sow"  # absent on 20 May, so attends 1 of 2 days and is not certified
GOVERNMENT_TRAINERS = ("Aminata Diallo", "Chidi Nwosu")  # the new trainers who deliver in Abidjan
QUOTE = "This is the best training I've had at IOM!"

# The evaluation of trainees at an even position in their roster (0, 1, 2...); every third is a
# little less enthusiastic (see `answers_of`).
ANSWERS = {"work_performance": 5, "methodology": 5, "content_quality": 5, "facilitation": 5, "relevance": 4,
           "organization": 4, "recommend": 10}


class ScenarioError(RuntimeError):
    """A call failed or the services did not catch up in time."""


class Issuer(Protocol):
    def issue(self, subject: str, role: str, **scope: Any) -> str: ...


def ascii_local_part(name: str) -> str:
    return name.lower().replace(" ", ".").encode("ascii", "ignore").decode()


def answers_of(position: int) -> list[dict[str, Any]]:
    """The evaluation answers of the trainee at `position` in their session's roster: the first
    of every three agrees (4) where the others strongly agree, and gives 9 instead of 10."""
    if position % 3:
        values = dict(ANSWERS)
    else:
        values = {item: 9 if item == "recommend" else max(4, value - 1) for item, value in ANSWERS.items()}
    answers = [{"item_id": item, "value": value} for item, value in values.items()]
    if position == 0:
        answers.append({"item_id": "comments", "value": QUOTE})
    return answers


def rubric_of(position: int) -> dict[str, int]:
    """The facilitator's scores (1-5) of the practice delivery of the trainee at `position`."""
    return {"content_mastery": 4, "clarity": 5, "participant_engagement": 4, "time_management": 4,
            "adult_learning_methods": 4 + position % 2}


@dataclass
class Enrolled:
    """One person as the scenario enrolled them."""

    full_name: str
    email: str
    language: str
    session_id: str
    participant_id: str
    enrollment_id: str
    token: str  # scoped to the enrollment: for the person's own evaluation


@dataclass
class Outcome:
    people: dict[str, Enrolled] = field(default_factory=dict)  # by full name
    trainers: list[dict[str, Any]] = field(default_factory=list)  # the pool at the end
    government_training: dict[str, Any] = field(default_factory=dict)


class DakarScenario:
    """The scenario against a registration API and an evaluation API (their base URLs), with
    tokens from `issuer` (signed with the key the APIs trust)."""

    def __init__(self, registration_url: str, evaluation_url: str, issuer: Issuer, *, suffix: str = "",
                 say: Callable[[str], None] = print, timeout: float = 120.0, clocked: bool = False) -> None:
        self.clocked = clocked
        self.registration_url = registration_url
        self.evaluation_url = evaluation_url
        self.suffix = suffix
        self.say = say
        self.timeout = timeout
        self.issuer = issuer
        self.organizer = {"Authorization": f"Bearer {issuer.issue(ORGANIZER, 'organizer')}"}
        self.facilitator_id = ""  # her staff id, once `run` has her in the staff directory
        self.facilitator: dict[str, str] = {}

    # -- the data ------------------------------------------------------------------------------

    @property
    def sessions(self) -> list[dict[str, Any]]:
        return [
            {"session_id": f"ses-dakar-tot-1{self.suffix}",
             "title": "EMM2.0 Training-of-Trainers - RO Dakar senior staff", "kind": "training_of_trainers",
             "modules": ["migration-governance", "labour-mobility", "migration-and-development"],
             "organizing_office": "RO Dakar", "city": "Dakar", "country": "SN",
             "venue": "IOM Regional Office for WCA", "start_date": f"{YEAR}-05-17", "end_date": f"{YEAR}-05-18",
             "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 10,
             "facilitator_ids": [self.facilitator_id],
             "target_audience": "Regional Thematic Specialists, RLPO, heads of unit"},
            {"session_id": f"ses-dakar-tot-2{self.suffix}",
             "title": "EMM2.0 Training-of-Trainers - IBM project managers", "kind": "training_of_trainers",
             "modules": ["border-management", "migration-governance"],
             "organizing_office": "RO Dakar (IBM RTS)", "city": "Dakar", "country": "SN",
             "venue": "IOM Regional Office for WCA", "start_date": f"{YEAR}-05-19", "end_date": f"{YEAR}-05-20",
             "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 12,
             "facilitator_ids": [self.facilitator_id], "target_audience": "IBM project managers in WCA"},
        ]

    def government_training(self, facilitator_ids: list[str]) -> dict[str, Any]:
        return {
            "session_id": f"ses-abidjan-gov-1{self.suffix}",
            "title": "EMM2.0 training for government officials - Côte d'Ivoire", "kind": "government_delivery",
            "modules": ["migration-governance"], "organizing_office": "CO Abidjan", "city": "Abidjan",
            "country": "CI", "start_date": f"{YEAR + 1}-02-10", "end_date": f"{YEAR + 1}-02-12",
            "timezone": "Africa/Abidjan", "languages": ["fr"], "capacity": 25,
            "facilitator_ids": facilitator_ids,
            "target_audience": "Officials of the Ministry of the Interior and Security"}

    def email_of(self, name: str) -> str:
        return f"{ascii_local_part(name)}{self.suffix}@example.org"

    def person(self, name: str, country: str, language: str, sex: str, title: str) -> dict[str, Any]:
        return {"email": self.email_of(name), "full_name": name, "country": country, "preferred_language": language,
                "sex": sex, "consent_to_contact": True, "organization": "IOM", "job_title": title}

    # -- running it ------------------------------------------------------------------------------

    def run(self) -> Outcome | None:
        """Replay the whole scenario; None (and nothing added) if its sessions exist already."""
        outcome = Outcome()
        with httpx.Client(base_url=self.registration_url, timeout=60, headers=self.organizer) as registration, \
                httpx.Client(base_url=self.evaluation_url, timeout=60) as evaluation:
            self.add_facilitator(registration)
            created = [call(registration, "POST", "/sessions", json=session, status_only=True)
                       for session in self.sessions]
            if created == [200, 200]:
                return None
            first, second = (s["session_id"] for s in self.sessions)
            self.enroll(registration, first, [self.person(*p) for p in SENIOR_STAFF], outcome)
            # 14 people for 12 seats: the last two wait; one cancellation promotes the first of them
            self.enroll(registration, second, [self.person(*p, IBM_TITLE) for p in IBM_MANAGERS], outcome)
            call(registration, "POST",
                 f"/sessions/{second}/enrollments/{outcome.people[CANCELLING].enrollment_id}/cancellation",
                 json={"reason": "Called away on mission"})
            attended_all_days: set[str] = set()
            for session in self.sessions:
                attended_all_days |= self.deliver(registration, evaluation, session, outcome)
            trainers = [outcome.people[name].participant_id for name in GOVERNMENT_TRAINERS]
            outcome.trainers = self.wait_for_pool(evaluation, attended_all_days)
            outcome.government_training = self.government_training(trainers)
            call(registration, "POST", "/sessions", json=outcome.government_training)
            self.say(f"{outcome.government_training['session_id']} scheduled by CO Abidjan, delivered by "
                     f"{' and '.join(GOVERNMENT_TRAINERS)}")
        return outcome

    def add_facilitator(self, client: httpx.Client) -> None:
        """The facilitator in the staff directory (again, if she is there: the same record)."""
        member = call(client, "POST", "/staff", json={**FACILITATOR, "email": self.email_of(FACILITATOR["full_name"])})
        self.facilitator_id = member["staff_id"]
        token = self.issuer.issue(self.facilitator_id, "facilitator", name=member["full_name"],
                                  offices=member["offices"])
        self.facilitator = {"Authorization": f"Bearer {token}"}

    def enroll(self, client: httpx.Client, session_id: str, people: list[dict], outcome: Outcome) -> None:
        enrolled = call(client, "POST", f"/sessions/{session_id}/enrollments/bulk", json={"participants": people})
        for person, made in zip(people, enrolled):
            enrollment = made["enrollment"]
            outcome.people[person["full_name"]] = Enrolled(
                full_name=person["full_name"], email=person["email"], language=person["preferred_language"],
                session_id=session_id, participant_id=enrollment["participant_id"],
                enrollment_id=enrollment["enrollment_id"],
                # The API gives nobody the person's credential (their emails carry their link): the
                # scenario, standing in for each person, signs their token with the key the APIs trust.
                token=self.issuer.issue(enrollment["participant_id"], "participant",
                                        enrollment_id=enrollment["enrollment_id"], session_id=session_id))
        waiting = [made["enrollment"]["full_name"] for made in enrolled if made["enrollment"]["status"] == "waitlisted"]
        self.say(f"{session_id}: {len(enrolled) - len(waiting)} registered"
                 + (f", waitlisted: {', '.join(waiting)}" if waiting else ""))

    def deliver(self, registration: httpx.Client, evaluation: httpx.Client, session: dict,
                outcome: Outcome) -> set[str]:
        """The session from start to completion: attendance, practice and peer feedback,
        evaluations. Returns the participant ids who attended every day."""
        sid = session["session_id"]
        self.move(registration, sid, "in_progress")
        roster = call(registration, "GET", f"/sessions/{sid}/roster")["registered"]
        missing = outcome.people[MISSES_DAY_2]
        absent = {missing.participant_id} if missing.session_id == sid else set()
        for day_index, day in enumerate([session["start_date"], session["end_date"]]):
            marks = [{"participant_id": e["participant_id"],
                      "status": "absent" if day_index == 1 and e["participant_id"] in absent else "present"}
                     for e in roster]
            self.take_attendance(registration, sid, day, marks)
        self.say(f"{sid}: {len(roster)} registered, attendance taken for 2 days")
        self.wait_until_evaluation_knows(evaluation, sid, len(roster))
        by_id = {p.participant_id: p for p in outcome.people.values()}
        for position, enrollment in enumerate(roster):
            trainee = by_id[enrollment["participant_id"]]
            self.retrying(evaluation, "POST", f"/sessions/{sid}/peer-feedback", headers=self.facilitator,
                     json={"peer_feedback_id": f"pf-{sid}-{trainee.participant_id}",
                           "trainee_participant_id": trainee.participant_id,
                           "module": session["modules"][position % len(session["modules"])],
                           "scores": rubric_of(position), "comment": "Clear, engaging delivery; kept to time."})
            self.retrying(evaluation, "POST", f"/sessions/{sid}/feedback",
                     headers={"Authorization": f"Bearer {trainee.token}"},
                     json={"submission_id": f"sub-{sid}-{trainee.participant_id}", "language": trainee.language,
                           "anonymous": position == 0, "answers": answers_of(position)})
        self.move(registration, sid, "completed")
        if not self.clocked:  # everyone answered: the organizer closes the evaluation, and the digest goes
            call(registration, "POST", f"/sessions/{sid}/evaluation/closure")
        self.say(f"{sid}: peer feedback and evaluations in, session completed")
        return {e["participant_id"] for e in roster} - absent

    def move(self, registration: httpx.Client, session_id: str, status: str) -> None:
        """The session to `status`: by the organizer's call, or, clocked, by waiting for the clock."""
        if not self.clocked:
            call(registration, "POST", f"/sessions/{session_id}/status", json={"status": status})
            return

        def moved() -> bool:
            return call(registration, "GET", f"/sessions/{session_id}")["session"]["status"] == status

        self.wait(moved, f"the lifecycle clock to make {session_id} {status}")

    def take_attendance(self, registration: httpx.Client, session_id: str, day: str, marks: list[dict]) -> None:
        """The facilitator's marks for `day`, once it has come where the session takes place (the
        programme's time may be behind the dates when clocked)."""
        responses: list[httpx.Response] = []

        def taken() -> bool:
            responses[:] = [registration.put(f"/sessions/{session_id}/attendance/{day}", json={"marks": marks},
                                             headers=self.facilitator)]
            return not (responses[0].status_code == 422 and "has not come yet" in responses[0].text)

        self.wait(taken, f"{day} to come for {session_id}")
        if responses[0].status_code >= 400:
            raise ScenarioError(f"attendance of {day} failed: {responses[0].status_code} {responses[0].text[:300]}")

    def wait_until_evaluation_knows(self, evaluation: httpx.Client, session_id: str, registered: int) -> None:
        """The evaluation service learns the roster from events: wait until its report counts it
        (a rating or an evaluation for a trainee it does not know yet would be refused)."""

        def caught_up() -> bool:
            response = evaluation.get(f"/sessions/{session_id}/report", headers=self.organizer)
            return response.status_code == 200 and response.json()["registered"] == registered

        self.wait(caught_up, f"the evaluation service to know the {registered} trainees of {session_id}")

    def wait_for_pool(self, evaluation: httpx.Client, expected: set[str]) -> list[dict]:
        """The trainer pool once everyone who attended every day is in it (certification runs
        asynchronously after each session's completion)."""
        pool: list[dict] = []

        def complete() -> bool:
            pool[:] = every_page(evaluation, "/trainers", headers=self.organizer)
            return expected <= {t["participant_id"] for t in pool}

        self.wait(complete, f"{len(expected)} certified trainers")
        return pool

    def retrying(self, client: httpx.Client, method: str, path: str, **kwargs) -> Any:
        """Call the evaluation service, retrying while it has not projected what the call refers to
        yet: it learns sessions and rosters from events, and answers 404 (unknown session or
        trainee) or 409 (enrollment not there yet) until it has caught up."""
        responses: list[httpx.Response] = []

        def answered() -> bool:
            responses[:] = [client.request(method, path, **kwargs)]
            return responses[0].status_code not in (404, 409)

        try:
            self.wait(answered, f"{method} {path} to be accepted")
        except ScenarioError:
            pass
        response = responses[0]
        if response.status_code >= 400:
            raise ScenarioError(f"{method} {path} failed: {response.status_code} {response.text[:300]}")
        return response.json()

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not condition():
            if time.monotonic() > deadline:
                raise ScenarioError(f"gave up waiting for {what} after {self.timeout:.0f}s")
            time.sleep(0.5)

    def report(self, session_id: str, language: str = "en") -> dict:
        with httpx.Client(base_url=self.evaluation_url, timeout=60, headers=self.organizer) as evaluation:
            return call(evaluation, "GET", f"/sessions/{session_id}/report", params={"language": language})


def every_page(client: httpx.Client, path: str, **kwargs) -> list:
    """The items of a list endpoint over all its pages (each page's Link header names the next)."""
    items: list = []
    url: str | None = path
    while url:
        response = client.get(url, **kwargs)
        if response.status_code >= 400:
            raise ScenarioError(f"GET {url} failed: {response.status_code} {response.text[:300]}")
        items += response.json()
        url = next_link(response.headers)
    return items


def call(client: httpx.Client, method: str, path: str, status_only: bool = False, **kwargs) -> Any:
    """The JSON answer (or with `status_only`, the status code) of a call that must succeed."""
    response = client.request(method, path, **kwargs)
    if response.status_code >= 400:
        raise ScenarioError(f"{method} {path} failed: {response.status_code} {response.text[:300]}")
    return response.status_code if status_only else response.json()
