"""The seed's story through the portal's pages in a real browser, against the real services and
the SMTP capture: nobody is handed a token; everyone signs in from an email.

An organizer of RO Dakar signs in by an emailed link and schedules the IBM project managers'
two-day ToT; two French-speaking participants enrol from the invitation link on 360 × 640 phones,
Awa Sow with JavaScript disabled (her whole way through the portal), Koffi Mensah with it on; each
follows the link of the confirmation email; a facilitator signs in on a phone and marks both days
of attendance; the organizer completes the session, each participant evaluates it from the
invitation email's link, and the organizer reads the report with its charts. Every page is
screenshotted and audited by axe-core; every participant page weighs at most 50 kB.

The first organizer is put in the staff directory through the API, as an operator would; she adds
the facilitator on the portal's staff directory page.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlparse

import httpx
import pytest

from deploy.bench.page_weight import BUDGET_BYTES
from tests.browser.harness import FRENCH, PHONE, Mailbox
from tests.conftest import MAIL_READER

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

TITLE = "EMM2.0 ToT – IBM project managers, Dakar"
PARTICIPANTS = {"Awa Sow": ("SN", "female", "off"), "Koffi Mensah": ("TG", "male", "on")}


def add_first_organizer(stack, name: str) -> None:
    token = stack.issuer.issue("stf-operator", "organizer", name="Operator", offices=[], regional=True)
    response = httpx.post(f"{stack.registration.url}/staff", headers={"Authorization": f"Bearer {token}"}, json={
        "full_name": name, "email": stack.address(name), "preferred_language": "en", "role": "organizer",
        "offices": ["RO Dakar"], "regional": False}, timeout=30)
    assert response.status_code == 201, response.text


def add_facilitator(organizer, stack, tour, name: str) -> None:
    organizer.goto(stack.url + "/organize/staff/new")
    tour.check(organizer, "organizer-new-staff-member")
    organizer.fill("#field-full_name", name)
    organizer.fill("#field-email", stack.address(name))
    organizer.check("input[name=preferred_language][value=fr]")
    organizer.check("input[name=role][value=facilitator]")
    organizer.fill("#field-offices", "RO Dakar")
    press(organizer, tour, "organizer-staff-directory", "main form button[type=submit].primary")
    assert organizer.url.endswith("/organize/staff?done=added") and organizer.get_by_text(name).count() >= 1


def sign_in_by_email(page, stack, tour, name: str, who: str) -> None:
    """Ask for a link on /signin/email, open it from the email, confirm (staff links are single use)."""
    page.goto(stack.url + "/signin/email")
    tour.check(page, f"{who}-ask-for-link")
    page.fill("#field-email", stack.address(name))
    page.click("main button[type=submit]")
    page.wait_for_url("**/signin/email?sent=1")
    tour.check(page, f"{who}-link-sent")
    page.goto(Mailbox(MAIL_READER, stack.address(name)).sign_in_link())
    tour.check(page, f"{who}-confirm-sign-in")
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


def press(page, tour, name: str, selector: str) -> None:
    page.click(selector)
    page.wait_for_load_state("load")
    tour.check(page, name)


def schedule_the_session(organizer, stack, tour, facilitator: str) -> str:
    organizer.goto(stack.url + "/organize/sessions/new")
    tour.check(organizer, "organizer-new-session")
    yesterday = date.today() - timedelta(days=1)
    organizer.fill("#field-title", TITLE)
    organizer.fill("#field-modules", "border-management\nmigration-governance")
    organizer.fill("#field-organizing_office", "RO Dakar")
    organizer.fill("#field-city", "Dakar")
    organizer.select_option("#field-country", "SN")
    organizer.fill("#field-venue", "IOM Regional Office for West and Central Africa")
    organizer.fill("#field-start_date", yesterday.isoformat())
    organizer.fill("#field-end_date", date.today().isoformat())
    organizer.check("input[name=languages][value=fr]")
    organizer.fill("#field-capacity", "12")
    organizer.get_by_label(facilitator).check()
    press(organizer, tour, "organizer-session-scheduled", "main form button[type=submit].primary")
    path = urlparse(organizer.url).path
    assert path.startswith("/organize/sessions/ses-"), organizer.url
    press(organizer, tour, "organizer-session-open", "button[name=status][value=open]")
    return path.rsplit("/", 1)[1]


def invitation_link(organizer, stack, tour, session_id: str) -> str:
    organizer.goto(f"{stack.url}/organize/sessions/{session_id}/invitation")
    tour.check(organizer, "organizer-invitation")
    press(organizer, tour, "organizer-invitation-made", "main form button[type=submit]")
    assert organizer.locator("main svg").count() >= 1  # the QR code
    return organizer.input_value("#invitation-link")


def enrol(page, tour, stack, link: str, name: str) -> None:
    country, sex, script = PARTICIPANTS[name]
    page.goto(link)
    tour.check(page, f"{name}-invitation")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#field-full_name", name)
    page.fill("#field-email", stack.address(name))
    page.fill("#field-organization", "OIM – gestion des frontières")
    page.select_option("#field-country", country)
    page.check(f"input[name=sex][value={sex}]")
    page.check("input[name=preferred_language][value=fr]")
    page.check("#field-consent_to_contact")
    press(page, tour, f"{name}-enrolled", "main form button[type=submit].primary")
    assert page.get_by_role("heading", level=1).inner_text() == "Vous êtes inscrit·e"


def mark_attendance(facilitator, stack, tour, session_id: str, day: date, marks: dict[str, str]) -> None:
    facilitator.goto(f"{stack.url}/facilitate/{session_id}/attendance/{day.isoformat()}")
    tour.check(facilitator, f"facilitator-attendance-{day}")
    for name, status in marks.items():
        row = facilitator.locator("li.mark-row", has_text=name)
        row.locator(f"button[name=status][value={status}]").click()
        facilitator.locator("li.mark-row", has_text=name).locator(".saved").wait_for()
        assert facilitator.locator("li.mark-row", has_text=name).locator(
            f"button[value={status}]").get_attribute("aria-pressed") == "true"
    # The count above the sheet follows each tap, with JavaScript (swapped in place) or without (page again).
    assert facilitator.locator("#marked-count").inner_text().startswith(f"{len(marks)} sur {len(marks)}")
    tour.check(facilitator, f"facilitator-attendance-{day}-marked")


def evaluate(page, tour, session_id: str, name: str) -> None:
    page.check("input[name=anonymous][value=no]")
    for group in page.locator("fieldset:has(input[type=radio][name^=answer-])").all():
        values = [radio.get_attribute("value") for radio in group.locator("input[type=radio]").all()]
        group.locator(f"input[type=radio][value='{'5' if '5' in values and '10' not in values else '9'}']").check()
    comments = page.locator("textarea[name^=answer-]")
    if comments.count():
        comments.first.fill("C'est la meilleure formation que j'ai eue à l'OIM !")
    press(page, tour, f"{name}-evaluated", "main form button[type=submit].primary")
    assert urlparse(page.url).path == f"/trainings/{session_id}/evaluation"
    assert page.locator(".error-summary").count() == 0, page.locator("main").inner_text()


def read_the_report(organizer, url: str, evaluations: int, timeout_s: int = 60) -> None:
    """Open the report until it counts every evaluation (the evaluation worker reads them from Kafka)."""
    for _ in range(timeout_s):
        organizer.goto(url)
        received = organizer.locator("dl.details dt:has-text('Evaluations received') + dd")
        if received.count() and received.inner_text().split()[0] == str(evaluations):
            return
        organizer.wait_for_timeout(1000)
    raise AssertionError(f"the report does not count {evaluations} evaluations: {organizer.locator('main').inner_text()}")


def test_the_dakar_story_through_the_pages(stack, new_context, desktop, tour):
    add_first_organizer(stack, "Fatou Ndiaye")
    organizer = tour.watch(desktop.new_page())
    sign_in_by_email(organizer, stack, tour, "Fatou Ndiaye", "organizer")
    assert urlparse(organizer.url).path == "/organize"
    tour.check(organizer, "organizer-sessions")
    add_facilitator(organizer, stack, tour, "Ousmane Sy")
    session_id = schedule_the_session(organizer, stack, tour, "Ousmane Sy")
    link = invitation_link(organizer, stack, tour, session_id)

    phones = {name: tour.watch(new_context(**PHONE, **FRENCH, java_script_enabled=script == "on").new_page())
              for name, (_, _, script) in PARTICIPANTS.items()}
    mail = {name: Mailbox(MAIL_READER, stack.address(name)) for name in PARTICIPANTS}
    for name, page in phones.items():
        enrol(page, tour, stack, link, name)
    for name, page in phones.items():  # the confirmation email's link signs them in
        page.goto(mail[name].sign_in_link(f"/trainings/{session_id}"))
        assert urlparse(page.url).path == f"/trainings/{session_id}"
        tour.check(page, f"{name}-training")
        assert page.locator(".tag-registered").count() == 1

    organizer.goto(f"{stack.url}/organize/sessions/{session_id}")
    press(organizer, tour, "organizer-session-started", "button[name=status][value=in_progress]")
    facilitator = tour.watch(new_context(**PHONE, **FRENCH).new_page())
    sign_in_by_email(facilitator, stack, tour, "Ousmane Sy", "facilitator")
    assert urlparse(facilitator.url).path == "/facilitate"
    tour.check(facilitator, "facilitator-sessions")
    first_day, second_day = date.today() - timedelta(days=1), date.today()
    mark_attendance(facilitator, stack, tour, session_id, first_day, {"Awa Sow": "present", "Koffi Mensah": "present"})
    mark_attendance(facilitator, stack, tour, session_id, second_day, {"Awa Sow": "present", "Koffi Mensah": "late"})

    organizer.goto(f"{stack.url}/organize/sessions/{session_id}")
    press(organizer, tour, "organizer-session-completed", "button[name=status][value=completed]")
    for name, page in phones.items():  # the evaluation invitation's link opens the evaluation
        page.goto(mail[name].sign_in_link(f"/trainings/{session_id}/evaluation"))
        assert urlparse(page.url).path == f"/trainings/{session_id}/evaluation"
        tour.check(page, f"{name}-evaluation")
        evaluate(page, tour, session_id, name)

    organizer.goto(f"{stack.url}/organize/sessions/{session_id}/attendance")
    tour.check(organizer, "organizer-attendance")
    read_the_report(organizer, f"{stack.url}/organize/sessions/{session_id}/report", evaluations=2)
    tour.check(organizer, "organizer-report")
    likert = organizer.locator("figure.chart-figure", has=organizer.locator("#likert-title"))
    assert likert.locator("svg").count() == 1 and likert.locator(".chart-summary li").count() >= 1
    assert organizer.locator("figure.chart-figure", has=organizer.locator("#attendance-title")).count() == 1

    participant_views = [view for view in tour.views if view.name.startswith(tuple(PARTICIPANTS))]
    heavy = [(view.name, view.transfer.bytes) for view in participant_views if view.transfer.bytes > BUDGET_BYTES]
    assert participant_views and not heavy, f"participant pages over {BUDGET_BYTES:,} bytes: {heavy}"
