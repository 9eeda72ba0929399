from emm_portal.domain import form_input, peer_feedback_form as pf, session_form as sf, staff_form as st
from emm_portal.domain.form_input import Problem, api_problems

SESSION = {"title": " EMM2.0 ToT Dakar ", "kind": "training_of_trainers", "modules": "migration-governance\r\n"
           "labour-migration, border-management\n\nmigration-governance", "organizing_office": "RO Dakar",
           "city": "Dakar", "country": "SN", "venue": "", "start_date": "2026-05-17", "end_date": "2026-05-18",
           "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": "20",
           "enrollment_opens_at": "", "enrollment_closes_at": "2026-05-15T18:00", "facilitator_ids": ["stf-1"],
           "target_audience": ""}


def test_a_filled_session_form_becomes_registrations_body():
    form = sf.read_session_form(SESSION)
    assert form.problems == {}
    assert form.details == {
        "title": "EMM2.0 ToT Dakar", "kind": "training_of_trainers",
        "modules": ["migration-governance", "labour-migration", "border-management"],
        "organizing_office": "RO Dakar", "city": "Dakar", "country": "SN", "venue": None,
        "start_date": "2026-05-17", "end_date": "2026-05-18", "timezone": "Africa/Dakar", "languages": ["fr", "en"],
        "capacity": 20, "facilitator_ids": ["stf-1"], "target_audience": None, "enrollment_opens_at": None,
        "enrollment_closes_at": "2026-05-15T18:00:00Z"}


def test_enrollment_times_are_read_in_the_sessions_time_zone():
    form = sf.read_session_form({**SESSION, "timezone": "Africa/Lagos"})
    assert form.details["enrollment_closes_at"] == "2026-05-15T17:00:00Z"


def test_every_problem_of_the_session_form_is_named_by_field_and_what_was_typed_is_kept():
    form = sf.read_session_form({"title": "", "kind": "party", "modules": " \n", "country": "Senegal",
                                 "start_date": "17/05/2026", "end_date": "2026-05-18", "timezone": "Mars/Base",
                                 "capacity": "twenty", "enrollment_opens_at": "soon"})
    assert form.details is None
    assert {name: p.message for name, p in form.problems.items()} == {
        "title": sf.ENTER_TITLE, "kind": sf.CHOOSE_KIND, "modules": sf.ENTER_MODULES,
        "organizing_office": sf.ENTER_OFFICE, "city": sf.ENTER_CITY, "country": sf.CHOOSE_COUNTRY,
        "start_date": form_input.DATE, "timezone": sf.BAD_TIMEZONE, "languages": sf.CHOOSE_LANGUAGES,
        "capacity": form_input.WHOLE_NUMBER, "enrollment_opens_at": form_input.DATE_TIME}
    assert form.values["start_date"] == "17/05/2026" and form.values["capacity"] == "twenty"
    assert form.problems["capacity"].values == {"low": 1, "high": sf.MAX_CAPACITY}


def test_dates_in_the_wrong_order_and_bounds_of_registration_are_problems():
    form = sf.read_session_form({**SESSION, "end_date": "2026-05-16", "title": "T" * 301,
                                 "enrollment_opens_at": "2026-05-16T09:00"})
    assert {name: (p.message, dict(p.values)) for name, p in form.problems.items()} == {
        "end_date": (sf.END_BEFORE_START, {}), "title": (form_input.TOO_LONG, {"max": 300}),
        "enrollment_closes_at": (sf.CLOSES_BEFORE_OPENS, {})}
    long = sf.read_session_form({**SESSION, "end_date": "2026-07-01"})
    assert long.problems["end_date"] == Problem("end_date", sf.TOO_LONG_SESSION, {"max": 30})


def test_an_untouched_edit_form_changes_nothing_and_a_cleared_field_is_sent_as_null():
    current = {**sf.read_session_form(SESSION).details, "venue": "IOM RO", "session_id": "ses-1", "status": "open"}
    values = sf.form_values(current)
    assert values["enrollment_closes_at"] == "2026-05-15T18:00" and values["capacity"] == "20"
    assert sf.changes_of(sf.read_session_form(values).details, current) == {}
    edited = sf.read_session_form({**values, "venue": "", "capacity": "25"})
    assert sf.changes_of(edited.details, current) == {"venue": None, "capacity": 25}


def test_a_problem_reads_in_the_pages_language():
    french = {form_input.TOO_LONG: "Écrivez au plus %(max)s caractères"}
    assert Problem("title", form_input.TOO_LONG, {"max": 300}).text(lambda m: french.get(m, m)) == \
        "Écrivez au plus 300 caractères"
    assert Problem("title", sf.ENTER_TITLE).text(lambda m: m) == sf.ENTER_TITLE


def test_the_apis_refusals_become_problems_of_the_forms_fields():
    problems = api_problems({"capacity": "12 seats are taken; capacity cannot be lower", "session_id": "gone"},
                            sf.FIELDS)
    assert problems == {"capacity": Problem("capacity", form_input.NOT_ACCEPTED,
                                            {"reason": "12 seats are taken; capacity cannot be lower"}),
                        "_": Problem(None, form_input.NOT_ACCEPTED, {"reason": "gone"})}


def test_a_rating_has_a_score_for_every_criterion_of_the_rubric():
    form = {"peer_feedback_id": "pfb-1", "trainee_participant_id": "par-1", "module": "labour-migration",
            **{f"scores.{c}": "4" for c in pf.CRITERIA}, "comment": " Clear examples "}
    read = pf.read_peer_feedback_form(form, ["par-1", "par-2"], ["labour-migration"])
    assert read.body == {"peer_feedback_id": "pfb-1", "trainee_participant_id": "par-1", "module": "labour-migration",
                         "scores": dict.fromkeys(pf.CRITERIA, 4), "comment": "Clear examples"}
    missing = pf.read_peer_feedback_form({**form, "scores.clarity": "", "trainee_participant_id": "par-9"},
                                         ["par-1"], ["labour-migration"])
    assert missing.body is None
    assert {n: p.message for n, p in missing.problems.items()} == {"trainee_participant_id": pf.CHOOSE_TRAINEE,
                                                                   "scores.clarity": pf.CHOOSE_SCORE}
    assert set(pf.CRITERION_LABELS) == set(pf.CRITERIA) == set(pf.CRITERION_HINTS)


def test_the_same_rating_form_posted_twice_carries_the_same_id():
    first = pf.new_peer_feedback_id()
    assert first != pf.new_peer_feedback_id() and first.startswith("pfb-")
    form = {"peer_feedback_id": first, "trainee_participant_id": "par-1", "module": "m",
            **{f"scores.{c}": "3" for c in pf.CRITERIA}}
    assert pf.read_peer_feedback_form(form, ["par-1"], ["m"]).body["peer_feedback_id"] == first


def test_an_organizer_needs_an_office_unless_they_act_for_the_region():
    form = {"full_name": "Fatou Sarr", "email": "Fatou.Sarr@IOM.int", "preferred_language": "fr",
            "role": "organizer", "offices": "RO Dakar\nCO Abidjan"}
    assert st.read_staff_form(form).body == {"full_name": "Fatou Sarr", "email": "fatou.sarr@iom.int",
                                             "preferred_language": "fr", "role": "organizer", "regional": False,
                                             "active": True, "offices": ["RO Dakar", "CO Abidjan"]}
    assert st.read_staff_form({**form, "offices": ""}).problems["offices"].message == st.ENTER_OFFICE
    assert st.read_staff_form({**form, "offices": "", "regional": "yes"}).body["offices"] == []
    assert st.read_staff_form({**form, "email": "fatou@"}).problems["email"].message == st.BAD_EMAIL
    assert st.read_staff_form({**form, "offices": "", "role": "facilitator"}).body["offices"] == []
    edited = st.read_staff_form({**form, "email": "someone@else.org"}, editing=True).body
    assert edited["active"] is False and "email" not in edited


def test_a_staff_entry_fills_its_edit_form():
    member = {"staff_id": "stf-1", "full_name": "Fatou Sarr", "email": "fatou@iom.int", "preferred_language": "fr",
              "role": "organizer", "offices": ["RO Dakar"], "regional": False, "active": True}
    values = st.staff_values(member)
    assert st.read_staff_form({**values, "active": "yes" if values["active"] else ""}, editing=True).body == \
        {k: v for k, v in member.items() if k not in ("staff_id", "email")}
