from __future__ import annotations

import shutil

import pytest

from emm_notification.domain.messages import PARTICIPANT_KINDS, SUPPORTED_LANGUAGES, MessageKind
from emm_notification.domain.rendering import TEMPLATES_DIR, MessageTemplates, available_languages, render

CONTEXT = {
    "recipient_name": "Aminata Diallo", "session_title": "EMM2.0 Training-of-Trainers, session 1",
    "session_start": "2026-05-17", "session_end": "2026-05-18", "city": "Dakar", "country": "SN",
    "venue": "IOM Regional Office", "position": 2, "reason": "Mission travel", "previous_status": "registered",
    "certificate_reference": "EMM2-TOT-2026-000001", "submissions": 12, "registered": 12,
    "portal_url": "http://127.0.0.1:8004/signin?link=abc.def.ghi&next=%2Ftrainings%2Fses-dakar-tot-1",
    "report_url": "https://emm.iom.int/sessions/ses-dakar-tot-1/report",
}


def test_the_package_has_templates_for_french_english_and_portuguese():
    assert set(available_languages()) == set(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_in_every_language(kind, language):
    message = render(kind, language, CONTEXT)
    assert message.language == language
    assert message.subject and "\n" not in message.subject and "{" not in message.subject
    assert "Aminata Diallo" in message.text and "Aminata Diallo" in message.html
    assert "EMMinfo@iom.int" in message.text
    assert message.html.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in message.html
    assert "{{" not in message.text + message.html


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_with_only_the_recipient_known(kind):
    # Optional values (venue, links, reason...) may be missing; the texts must still render.
    assert render(kind, "en", {"recipient_name": "John Mensah", "session_title": "ToT"}).text


# CLDR puts thin spaces (U+2009) around the en dash in English and Portuguese.
@pytest.mark.parametrize("language, expected", [("fr", "17–18 mai 2026"), ("en", "May 17\u2009–\u200918, 2026"),
                                                ("pt", "17\u2009–\u200918 de mai. de 2026")])
def test_session_dates_are_written_the_local_way(language, expected):
    assert expected in render(MessageKind.ENROLLMENT_REGISTERED, language, CONTEXT).text


def test_reminder_subject_gives_the_full_local_date():
    assert render(MessageKind.SESSION_REMINDER, "fr", CONTEXT).subject.endswith("commence le 17 mai 2026")
    assert render(MessageKind.SESSION_REMINDER, "pt", CONTEXT).subject.endswith("começa a 17 de maio de 2026")


def test_country_is_named_in_the_messages_language():
    assert "Dakar, Sénégal" in render(MessageKind.SESSION_UPDATED, "fr", CONTEXT).text
    assert "Dakar, Senegal" in render(MessageKind.SESSION_UPDATED, "en", CONTEXT).text


def test_french_texts_are_french():
    message = render(MessageKind.ENROLLMENT_WAITLISTED, "fr", CONTEXT)
    assert message.subject == "Vous êtes sur la liste d'attente : EMM2.0 Training-of-Trainers, session 1"
    assert "position 2" in message.text


def test_the_portal_link_appears_only_when_known():
    assert CONTEXT["portal_url"].replace("&", "&amp;") in render(MessageKind.EVALUATION_INVITATION, "pt", CONTEXT).html
    without = render(MessageKind.EVALUATION_INVITATION, "pt", CONTEXT | {"portal_url": None})
    assert "signin?" not in without.html + without.text


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", sorted(PARTICIPANT_KINDS))
def test_every_participant_message_carries_their_portal_link(kind, language):
    message = render(kind, language, CONTEXT)
    assert CONTEXT["portal_url"] in message.text
    assert f'href="{CONTEXT["portal_url"].replace("&", "&amp;")}"' in message.html


@pytest.mark.parametrize("language, staff, participant", [
    ("en", "Your sign-in link to EMM2.0", "Your link to EMM2.0 Training-of-Trainers, session 1"),
    ("fr", "Votre lien de connexion à EMM2.0", "Votre lien vers EMM2.0 Training-of-Trainers, session 1"),
    ("pt", "A sua ligação de acesso ao EMM2.0", "A sua ligação para EMM2.0 Training-of-Trainers, session 1")])
def test_a_sign_in_link_message_says_how_long_the_link_works(language, staff, participant):
    to_staff = render(MessageKind.SIGN_IN_LINK, language, CONTEXT | {"purpose": "staff-sign-in", "link_minutes": 15})
    assert to_staff.subject == staff and "15" in to_staff.text and CONTEXT["portal_url"] in to_staff.text
    assert "session 1" not in to_staff.text
    to_participant = render(MessageKind.SIGN_IN_LINK, language,
                            CONTEXT | {"purpose": "participant-sign-in", "link_days": 60})
    assert to_participant.subject == participant and "60" in to_participant.text
    assert "Dakar" in to_participant.text and CONTEXT["portal_url"] in to_participant.text
    # Asked for, not consented to: the footer says why the message came.
    assert render(MessageKind.ENROLLMENT_REGISTERED, language, CONTEXT).text.splitlines()[-1] not in to_staff.text


def test_html_escapes_values_but_text_keeps_them_verbatim():
    context = CONTEXT | {"recipient_name": "<b>A & B</b>"}
    message = render(MessageKind.TRAINER_CERTIFIED, "en", context)
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in message.html
    assert "<b>A & B</b>" in message.text


def test_unknown_language_falls_back_to_english():
    message = render(MessageKind.ENROLLMENT_REGISTERED, "xx", CONTEXT)
    assert message.language == "en"
    assert message.subject == "Your place is confirmed: EMM2.0 Training-of-Trainers, session 1"
    assert "May 17\u2009–\u200918, 2026" in message.text


def test_a_missing_translation_falls_back_to_english_as_a_whole(tmp_path):
    shutil.copytree(TEMPLATES_DIR, tmp_path / "templates")
    (tmp_path / "templates" / "fr" / "trainer_certified.html.j2").unlink()
    templates = MessageTemplates(tmp_path / "templates")
    message = templates.render(MessageKind.TRAINER_CERTIFIED, "fr", CONTEXT)
    assert message.language == "en"
    assert message.subject.startswith("Congratulations")
    assert "Certificate reference" in message.text
    assert templates.render(MessageKind.SESSION_UPDATED, "fr", CONTEXT).language == "fr"


def test_a_language_code_cannot_reach_outside_the_template_folder():
    assert render(MessageKind.ENROLLMENT_REGISTERED, "../en", CONTEXT).language == "en"
