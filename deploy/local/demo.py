"""Demo data: the seed's Dakar Training-of-Trainers, replayed through the real APIs.

The scenario itself is `dakar_scenario.py` beside this file (the end-to-end test
tests/e2e/test_dakar_scenario.py runs the same one and checks every result). Safe to run again:
the sessions have fixed ids, and once they exist nothing is added.

    python deploy/local/demo.py [--registration http://127.0.0.1:8001] [--evaluation http://127.0.0.1:8002]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dakar_scenario import GOVERNMENT_TRAINERS, DakarScenario, ScenarioError  # this file's folder is on sys.path

from emm_common.auth import TokenIssuer

KEYS = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot")) / "keys"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registration", default="http://127.0.0.1:8001")
    parser.add_argument("--evaluation", default="http://127.0.0.1:8002")
    args = parser.parse_args()
    issuer = TokenIssuer((KEYS / "jwt-ed25519.pem").read_bytes())
    scenario = DakarScenario(args.registration, args.evaluation, issuer, say=lambda line: print(f"[demo] {line}"))
    try:
        outcome = scenario.run()
        if outcome is None:
            print("[demo] the Dakar sessions are there already; nothing to add")
            return 0
        report = scenario.report(scenario.sessions[1]["session_id"], "en")
    except ScenarioError as error:
        raise SystemExit(f"[demo] {error}") from None
    for line in report.get("headlines", [])[:2]:
        print(f"[demo] report: {line}")
    print(f"[demo] trainer pool: {len(outcome.trainers)} certified EMM2.0 trainers; government training "
          f"{outcome.government_training['session_id']} delivered by {', '.join(GOVERNMENT_TRAINERS)}")
    print("[demo] done: open http://127.0.0.1:8001/docs and :8002/docs (make token ROLE=organizer), "
          "captured emails at http://127.0.0.1:8025/messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
