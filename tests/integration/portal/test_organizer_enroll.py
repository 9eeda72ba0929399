"""Enrolling a list of nominees, the roster and the invitation link through the real
registration API: a French Excel export is previewed row by row before anything is saved,
confirming enrolls the good rows once, and the invitation comes with its QR code."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.portal.conftest import csrf_of, schedule, submit
from tests.integration.portal.staff import api_get, staff_browser

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def excel_export(stack) -> bytes:
    """What French Excel saves as "CSV (séparateur : point-virgule)": semicolons, Windows-1252."""
    u = stack.unique
    rows = ["Nom et prénom;Adresse e-mail;Organisation;Bureau;Pays;Sexe;Langue;Téléphone",
            f"Aminata Diallo;aminata.{u}@example.org;OIM;Dakar;Sénégal;F;Français;77 000 00 01",
            f"Kofi Mensah;kofi.{u}@example.org;Ministère de l'Intérieur;;Ghana;H;anglais;",
            f"Awa Ndiaye;awa.{u}@example;;;SN;F;fr;",
            f"Aminata D.;AMINATA.{u}@example.org;OIM;;SN;F;fr;",
            f"Moussa Traoré;moussa.{u}@example.org;;;Mali;M;;"]
    return ("\r\n".join(rows) + "\r\n").encode("cp1252")


def test_a_french_excel_export_is_previewed_then_enrolled_once_and_everyone_is_told_by_email(stack):
    session_id = schedule(stack, capacity=2)
    path = f"/organize/sessions/{session_id}/enroll"
    with staff_browser(stack.portal, stack) as client:
        form = client.get(path)
        assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
        preview = client.post(path, data={"csrf_token": csrf_of(form), "list": ""},
                              files={"file": ("participants.csv", excel_export(stack), "text/csv")})
        assert preview.status_code == 200, preview.text[-2000:]
        assert "Lignes prêtes à inscrire : 3 sur 5" in preview.text
        assert "Lignes avec un problème, laissées de côté : 2" in preview.text
        assert "E-mail : Indiquez une adresse e-mail comme nom@exemple.org" in preview.text
        assert "E-mail : Même e-mail qu&#39;à la ligne 2 : la même personne" in preview.text
        assert api_get(stack, stack.registration, f"/sessions/{session_id}/roster")["registered"] == []
        source = re.search(r'<textarea name="list" hidden>(.*?)</textarea>', preview.text, re.S).group(1)
        confirm = {"list": source.replace("&#39;", "'"), "count": "3", "csrf_token": csrf_of(preview)}
        without_consent = client.post(f"{path}/confirm", data=confirm)
        assert without_consent.status_code == 422 and "Confirmez que ces personnes" in without_consent.text
        done = client.post(f"{path}/confirm", data={**confirm, "consent": "yes"})
        assert done.status_code == 200, done.text[-2000:]
        assert "Chaque personne reçoit un e-mail avec son propre lien" in done.text
        assert "Ont obtenu une place : 2" in done.text and "Sur la liste d'attente : 1" in done.text
        again = client.post(f"{path}/confirm", data={**confirm, "consent": "yes"})
        assert "Déjà inscrits, rien n'a changé pour eux : 3" in again.text
        roster_page = client.get(f"/organize/sessions/{session_id}/roster")
    roster = api_get(stack, stack.registration, f"/sessions/{session_id}/roster")
    assert [e["full_name"] for e in roster["registered"]] == ["Aminata Diallo", "Kofi Mensah"]
    assert [e["full_name"] for e in roster["waitlist"]] == ["Moussa Traoré"]
    assert "Aminata Diallo" in roster_page.text and "Liste d'attente : 1" in roster_page.text
    kofi = next(e for e in roster["registered"] if e["full_name"] == "Kofi Mensah")
    assert "participant_token" not in kofi


def test_pasted_cells_with_a_problem_in_every_row_enroll_nobody(stack):
    session_id = schedule(stack)
    path = f"/organize/sessions/{session_id}/enroll"
    with staff_browser(stack.portal, stack, language="en") as client:
        preview = submit(client, path, {"list": "Full name\tEmail\tCountry\n\tnobody@\tXX\n"})
    assert preview.status_code == 422
    assert "Enter the person&#39;s full name" in preview.text and "/enroll/confirm" not in preview.text


def test_an_excel_workbook_is_refused_with_what_to_do(stack):
    session_id = schedule(stack)
    path = f"/organize/sessions/{session_id}/enroll"
    with staff_browser(stack.portal, stack) as client:
        form = client.get(path)
        preview = client.post(path, data={"csrf_token": csrf_of(form)},
                              files={"file": ("list.xlsx", b"PK\x03\x04 not really", "application/octet-stream")})
    assert preview.status_code == 422 and "C&#39;est un classeur Excel" in preview.text


def test_the_invitation_link_comes_with_its_qr_code_and_a_page_to_print(stack):
    session_id = schedule(stack)
    path = f"/organize/sessions/{session_id}/invitation"
    with staff_browser(stack.portal, stack) as client:
        empty = client.get(path)
        assert empty.status_code == 200 and "<svg" not in empty.text.split("<main", 1)[1]
        made = submit(client, path, {"valid_days": "14"}, empty)
        assert made.status_code == 303
        page = client.get(made.headers["location"])
        printed = client.get(made.headers["location"] + "&print=1")
        wrong = submit(client, path, {"valid_days": "0"}, empty)
    token = made.headers["location"].split("token=", 1)[1]
    link = f"{stack.portal.url}/invitations/{token}"
    assert f'value="{link}"' in page.text and '<svg width="' in page.text and 'class="qr"' in page.text
    assert 'style="' not in page.text.split("<main", 1)[1]
    assert printed.status_code == 200 and 'class="qr"' in printed.text and "Scannez ce code" in printed.text
    assert wrong.status_code == 422 and "Indiquez un nombre entier de 1 à 365" in wrong.text
    # The link is the participant's invitation page.
    assert httpx.get(link, timeout=30).status_code == 200
