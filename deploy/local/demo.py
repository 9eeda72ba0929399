"""Demo data: the seed's Dakar Training-of-Trainers, replayed through the real APIs, then demo
staff, and one ready-to-click portal sign-in link per role.

The scenario itself is `dakar_scenario.py` beside this file (the end-to-end test
tests/e2e/test_dakar_scenario.py runs the same one and checks every result). Safe to run again:
the sessions have fixed ids, and once they exist nothing is added; the staff are found by their
email; the links are new each time.

    python deploy/local/demo.py [--registration http://127.0.0.1:8001] [--evaluation http://127.0.0.1:8002]
                                [--portal http://127.0.0.1:8004]
"""

from __future__ import annotations

import argparse
import sys

import httpx
from dakar_scenario import FACILITATOR, GOVERNMENT_TRAINERS, DakarScenario, ScenarioError, call  # this folder

from emm_common.auth import PARTICIPANT_LINK_DAYS, TokenIssuer, sign_in_url
from emm_common.settings import CACHE_DIR, ServiceSettings

KEYS = CACHE_DIR / "keys"
ORGANIZER = {"full_name": "Awa Ndiaye", "email": "awa.ndiaye@example.org", "preferred_language": "fr",
             "role": "organizer", "offices": ["RO Dakar"]}
# Emailed staff links last 15 minutes; these are printed once at start-up, so they last a working day.
DEMO_STAFF_LINK_SECONDS = 12 * 3600


def sign_in_links(scenario: DakarScenario, issuer: TokenIssuer, portal: str) -> list[tuple[str, str, str]]:
    """(role, who, sign-in URL) for a demo organizer of RO Dakar (added to the staff directory
    through the API), the Dakar sessions' facilitator and a participant of the first session."""
    first_session = scenario.sessions[0]["session_id"]
    with httpx.Client(base_url=scenario.registration_url, timeout=60, headers=scenario.organizer) as registration:
        organizer = call(registration, "POST", "/staff", json=ORGANIZER)
        participant = call(registration, "GET", f"/sessions/{first_session}/roster")["registered"][0]
    return [
        ("organizer", f"{organizer['full_name']} ({', '.join(organizer['offices'])})",
         sign_in_url(portal, issuer.issue_link("staff-sign-in", organizer["staff_id"], DEMO_STAFF_LINK_SECONDS),
                     "/organize")),
        ("facilitator", FACILITATOR["full_name"],
         sign_in_url(portal, issuer.issue_link("staff-sign-in", scenario.facilitator_id, DEMO_STAFF_LINK_SECONDS),
                     "/facilitate")),
        ("participant", participant["full_name"],
         sign_in_url(portal, issuer.issue_link("participant-sign-in", participant["participant_id"],
                                               PARTICIPANT_LINK_DAYS * 86400, session_id=first_session),
                     f"/trainings/{first_session}")),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registration", default="http://127.0.0.1:8001")
    parser.add_argument("--evaluation", default="http://127.0.0.1:8002")
    parser.add_argument("--portal", default=ServiceSettings().public_base_url,
                        help="the portal's address (EMM_PUBLIC_BASE_URL)")
    args = parser.parse_args()
    issuer = TokenIssuer((KEYS / "jwt-ed25519.pem").read_bytes())
    scenario = DakarScenario(args.registration, args.evaluation, issuer, say=lambda line: print(f"[demo] {line}"))
    try:
        outcome = scenario.run()
        if outcome is None:
            print("[demo] the Dakar sessions are there already; nothing to add")
        else:
            report = scenario.report(scenario.sessions[1]["session_id"], "en")
            for line in report.get("headlines", [])[:2]:
                print(f"[demo] report: {line}")
            print(f"[demo] trainer pool: {len(outcome.trainers)} certified EMM2.0 trainers; government training "
                  f"{outcome.government_training['session_id']} delivered by {', '.join(GOVERNMENT_TRAINERS)}")
        links = sign_in_links(scenario, issuer, args.portal)
    except ScenarioError as error:
        raise SystemExit(f"[demo] {error}") from None
    print(f"[demo] sign in to the portal ({args.portal}), one link per role. A LOCAL DEVELOPMENT TOOL: these links "
          f"are signed with the local key in {KEYS}, not emailed; a staff link works once (for 12 hours), so run "
          f"the demo again for new ones. Emailed links come from {args.portal}/signin/email.")
    for role, who, url in links:
        print(f"[demo]   {role:11} {who}: {url}")
    print("[demo] done: open http://127.0.0.1:8001/docs and :8002/docs (make token ROLE=organizer), "
          "captured emails at http://127.0.0.1:8025/messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
