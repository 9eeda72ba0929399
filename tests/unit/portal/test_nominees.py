import codecs

import pytest

from emm_portal.domain import nominees as n
from emm_portal.domain.form_input import Problem
from emm_portal.domain.nominees import preview_nominees

FRENCH_EXCEL = ("Nom et prénom;Adresse e-mail;Organisation;Bureau;Pays;Sexe;Langue;Téléphone\r\n"
                "Aminata Diallo;aminata.diallo@example.org;OIM;Dakar;Sénégal;F;Français;77 000 00 01\r\n"
                "Kofi Mensah;kofi@example.org;Ministère de l'Intérieur;;Côte d'Ivoire;Homme;fr;\r\n")


def problems_of(preview, row):
    return {(p.field, p.message) for p in next(x for x in preview.nominees if x.row == row).problems}


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig", "utf-16"])
def test_a_french_excel_export_reads_in_every_encoding_it_comes_in(encoding):
    preview = preview_nominees(FRENCH_EXCEL.encode(encoding))
    assert preview.problems == ()
    assert preview.columns == ("full_name", "email", "organization", "office", "country", "sex",
                               "preferred_language", "phone")
    assert preview.ready == [
        {"full_name": "Aminata Diallo", "email": "aminata.diallo@example.org", "organization": "OIM",
         "job_title": "Dakar", "country": "SN", "sex": "female", "preferred_language": "fr",
         "phone": "+221770000001"},
        {"full_name": "Kofi Mensah", "email": "kofi@example.org", "organization": "Ministère de l'Intérieur",
         "country": "CI", "sex": "male", "preferred_language": "fr"}]
    assert [x.row for x in preview.nominees] == [2, 3]


def test_comma_separated_english_headers_with_quoted_commas():
    text = ('Full name,Email,Organization,Country,Preferred language,Gender,Job title\n'
            '"Bah, Mariama",Mariama.Bah@Example.org,"IOM, Freetown",Sierra Leone,English,female,"Officer, AVRR"\n')
    preview = preview_nominees(text)
    assert preview.ready == [{"full_name": "Bah, Mariama", "email": "mariama.bah@example.org",
                              "organization": "IOM, Freetown", "country": "SL", "preferred_language": "en",
                              "sex": "female", "job_title": "Officer, AVRR"}]


def test_cells_pasted_from_a_spreadsheet_are_tab_separated_and_portuguese_headers_are_known():
    text = "Nome completo\tCorreio eletrónico\tPaís\tIdioma\tSexo\tTelefone\n" \
           "Nuno Cabral\tnuno@example.org\tGuiné-Bissau\tportuguês\tmasculino\t955 123 456\n"
    preview = preview_nominees(text)
    assert preview.ready == [{"full_name": "Nuno Cabral", "email": "nuno@example.org", "country": "GW",
                              "preferred_language": "pt", "sex": "male", "phone": "+245955123456"}]


def test_a_list_without_a_header_row_is_read_in_the_documented_column_order():
    preview = preview_nominees("Awa Ndiaye, awa@example.org, OIM, Dakar, SN, F, fr\n")
    assert preview.columns == n.FIELDS
    assert preview.nominees[0].row == 1
    assert (preview.ready[0]["organization"], preview.ready[0]["job_title"]) == ("OIM", "Dakar")


def test_every_problem_of_a_row_is_reported_by_field_and_nothing_of_that_row_is_ready():
    text = "Full name;Email;Country;Language;Sex;Phone\n" \
           ";not-an-email;XX;de;maybe;123\n" \
           "Ok Person;ok@example.org;SN;fr;;+221 77 000 00 02\n"
    preview = preview_nominees(text)
    assert problems_of(preview, 2) == {("full_name", n.ENTER_NAME), ("email", n.BAD_EMAIL),
                                       ("country", n.BAD_COUNTRY), ("preferred_language", n.BAD_LANGUAGE),
                                       ("sex", n.BAD_SEX)}
    assert [p["email"] for p in preview.ready] == ["ok@example.org"]
    assert preview.can_enroll and [x.row for x in preview.rows_with_problems] == [2]


def test_a_row_keeps_what_was_written_so_the_preview_can_show_it_back():
    preview = preview_nominees("Full name;Email;Country\n Awa ;awa@;SN\n")
    assert preview.nominees[0].written == {"full_name": "Awa", "email": "awa@", "country": "SN"}


def test_a_phone_number_registration_would_refuse_is_a_problem_of_its_row():
    preview = preview_nominees("Full name;Email;Country;Language;Phone\nA B;ab@example.org;SN;fr;12\n")
    assert problems_of(preview, 2) == {("phone", n.BAD_PHONE)}


def test_registrations_length_bounds_apply():
    long_name = "A" * 201
    preview = preview_nominees(f"Full name;Email;Country;Language;Position;Office\n"
                               f"{long_name};ab@example.org;SN;fr;{'O' * 150};{'D' * 60}\n")
    nominee = preview.nominees[0]
    assert nominee.problems == (Problem("full_name", n.TOO_LONG, {"max": 200}),
                                Problem("office", n.POSITION_TOO_LONG, {"max": 200}))


def test_a_position_and_an_office_go_together_in_the_job_title_as_on_the_invitation_form():
    preview = preview_nominees("Full name;Email;Country;Language;Fonction;Bureau\nA B;ab@example.org;SN;fr;Chef de poste;"
                               "Rosso\n")
    assert preview.ready[0]["job_title"] == "Chef de poste – Rosso"


def test_an_empty_language_takes_the_default_given_else_it_is_required():
    text = "Full name;Email;Country\nA B;ab@example.org;SN\n"
    assert preview_nominees(text, default_language="pt").ready[0]["preferred_language"] == "pt"
    assert problems_of(preview_nominees(text), 2) == {("preferred_language", n.ENTER_LANGUAGE)}


def test_the_same_email_twice_in_the_list_is_flagged_on_the_later_row():
    text = "Full name;Email;Country;Language\nA B;ab@example.org;SN;fr\nA. B.;AB@example.org ;SN;fr\n"
    preview = preview_nominees(text)
    assert [p["full_name"] for p in preview.ready] == ["A B"]
    assert preview.nominees[1].problems == (Problem("email", n.SAME_EMAIL, {"row": 2}),)


def test_blank_rows_are_skipped_but_rows_keep_their_spreadsheet_numbers():
    preview = preview_nominees("Full name;Email;Country;Language\n\n;;;\nA B;ab@example.org;SN;fr\n\n")
    assert [x.row for x in preview.nominees] == [4]


def test_columns_it_does_not_use_are_listed_and_a_second_column_for_a_field_is_ignored():
    preview = preview_nominees("Full name;Email;Country;Language;Badge;Email\nA B;ab@example.org;SN;fr;x;other@x.org\n")
    assert preview.ignored_columns == ("Badge", "Email")
    assert preview.ready[0]["email"] == "ab@example.org"


@pytest.mark.parametrize(("source", "problem"), [
    ("", Problem(None, n.EMPTY_LIST)),
    ("\n \n", Problem(None, n.EMPTY_LIST)),
    ("Full name;Email;Country\n", Problem(None, n.EMPTY_LIST)),
    ("hello there\nsecond line\n", Problem(None, n.NO_HEADER)),
    (b"PK\x03\x04rest of a workbook", Problem(None, n.WORKBOOK)),
    (b"x" * (n.MAX_INPUT_BYTES + 1), Problem(None, n.TOO_LARGE, {"max": 1000})),
])
def test_a_list_that_cannot_be_read_says_why(source, problem):
    preview = preview_nominees(source)
    assert problem in preview.problems and not preview.can_enroll


def test_a_header_without_an_email_column_says_which_column_is_missing():
    preview = preview_nominees("Full name;Country;Language\nA B;SN;fr\n")
    assert Problem(None, n.MISSING_COLUMN, {"column": "Email"}) in preview.problems
    assert not preview.can_enroll


def test_more_people_than_one_bulk_enrollment_takes_is_refused_as_a_whole():
    rows = "".join(f"P {i};p{i}@example.org;SN;fr\n" for i in range(n.MAX_NOMINEES + 1))
    preview = preview_nominees("Full name;Email;Country;Language\n" + rows)
    assert Problem(None, n.TOO_MANY, {"max": 500}) in preview.problems
    assert not preview.can_enroll


def test_header_names_ignore_case_accents_and_notes_in_brackets():
    preview = preview_nominees("NOM COMPLET;E-MAIL (obligatoire);PAYS\nA B;ab@example.org;sn\n", default_language="fr")
    assert preview.ready[0]["country"] == "SN"


def test_the_preview_is_the_same_for_the_same_source():
    data = FRENCH_EXCEL.encode("cp1252")
    assert preview_nominees(data) == preview_nominees(data)


def test_a_utf8_file_with_a_bom_has_no_stray_character_in_its_first_header():
    preview = preview_nominees(codecs.BOM_UTF8 + "Full name,Email,Country,Language\nA B,ab@example.org,SN,fr\n".encode())
    assert preview.columns[0] == "full_name" and preview.ready


def test_every_message_id_is_a_message_the_page_can_translate():
    ids = [value for name, value in vars(n).items() if name.isupper() and isinstance(value, str) and " " in value]
    assert len(ids) >= 15 and all(value[0].isupper() for value in ids)
