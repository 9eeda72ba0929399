"""The write-up reads like the programme's own news item (the seed's: two ToT sessions on 17-20
May in Dakar, the headline sentence, the quote), in fr, en and pt."""

from datetime import date

import pytest

from emm_evaluation.domain.errors import NotFound
from emm_evaluation.domain.quotes import Quote
from emm_evaluation.domain.write_up import SessionStory, date_range, write_up

BEST = "This is the best training I've had at IOM!"
HEADLINE = ("All participants strongly agreed or agreed that the ToT will help improve their present work "
            "performance.")


def seed() -> list[SessionStory]:
    senior = SessionStory("ses-1", "EMM2.0 ToT - RO Dakar senior staff", "training_of_trainers", "Dakar",
                          "IOM RO Dakar", date(2026, 5, 17), date(2026, 5, 18), 10,
                          {date(2026, 5, 17): 10, date(2026, 5, 18): 9}, ["IOM RO Dakar"] * 10, [HEADLINE],
                          [Quote("fbk-1", "comments", BEST, None)], trainers_certified=8)
    ibm = SessionStory("ses-2", "EMM2.0 ToT - IBM project managers", "training_of_trainers", "Dakar", "IBM RTS",
                       date(2026, 5, 19), date(2026, 5, 20), 12, {date(2026, 5, 19): 12, date(2026, 5, 20): 11},
                       ["IOM Niger"] * 5 + ["IOM Mali"] * 4 + ["IOM Chad", "IOM Senegal", "IOM Ghana"], [HEADLINE],
                       trainers_certified=11)
    return [ibm, senior]  # in any order: told by date


def test_the_seed_write_up_in_english():
    story = write_up(seed(), "en")
    assert story.title == "EMM2.0 in Dakar: 2 sessions of Training-of-Trainers (ToT)"
    assert story.paragraphs == (
        "IOM RO Dakar and IBM RTS organized 2 sessions of Training-of-Trainers (ToT) for IOM's Essentials of "
        "Migration Management (EMM2.0) programme on 17-20 May 2026 in Dakar.",
        "Session 1: on 17-18 May 2026, “EMM2.0 ToT - RO Dakar senior staff”, for 10 participants from IOM RO Dakar. "
        "Attendance: 10 on 17 May and 9 on 18 May.",
        "Session 2: on 19-20 May 2026, “EMM2.0 ToT - IBM project managers”, for 12 participants from IOM Niger, "
        "IOM Mali, IOM Chad and 2 other organizations. Attendance: 12 on 19 May and 11 on 20 May.",
        HEADLINE,  # the same sentence of both sessions, said once
        f"One participant said: “{BEST}”",
        "19 new trainers joined the pool of certified EMM2.0 trainers.")
    assert story.trainers_certified == 19


def test_french_and_portuguese_say_the_same():
    fr, pt = write_up(seed(), "fr"), write_up(seed(), "pt")
    assert fr.paragraphs[0] == ("IOM RO Dakar et IBM RTS ont organisé 2 sessions de formation des formateurs du "
                                "programme Fondamentaux de la gestion des migrations (EMM2.0) de l'OIM du 17 au 20 "
                                "mai 2026 à Dakar.")
    assert "Présents : 10 le 17 mai et 9 le 18 mai." in fr.paragraphs[1]
    assert fr.paragraphs[-1] == "19 nouveaux formateurs ont rejoint le vivier des formateurs EMM2.0 certifiés."
    assert pt.paragraphs[0].startswith("IOM RO Dakar e IBM RTS organizaram 2 sessões")
    assert "de 17 a 20 de maio de 2026" in pt.paragraphs[0] and "12 a 19 de maio" in pt.paragraphs[2]


def test_a_named_quote_names_its_author_and_one_trainer_is_said_so():
    one = SessionStory("ses-3", "ToT", "training_of_trainers", "Abuja", "IOM Nigeria", date(2026, 6, 30),
                       date(2026, 7, 1), 1, {date(2026, 6, 30): 0, date(2026, 7, 1): 0}, quotes=[Quote("fbk-2", "comments", "Great", "Ngozi Okafor")],
                       trainers_certified=1)
    story = write_up([one], "en")
    assert "Ngozi Okafor said: “Great”" in story.paragraphs
    assert story.paragraphs[-1] == "One new trainer joined the pool of certified EMM2.0 trainers."
    assert "from 30 June to 1 July 2026" in story.paragraphs[0]
    assert "Attendance" not in story.paragraphs[1]  # nobody took attendance: no sentence of zeros


def test_dates_across_years_and_a_single_day():
    assert date_range(date(2026, 12, 30), date(2027, 1, 2), "fr") == "du 30 décembre 2026 au 2 janvier 2027"
    assert date_range(date(2026, 5, 17), date(2026, 5, 17), "pt") == "a 17 de maio de 2026"
    assert date_range(date(2026, 12, 1), date(2026, 12, 2), "fr") == "du 1er au 2 décembre 2026"
    assert date_range(date(2026, 4, 30), date(2026, 5, 1), "fr") == "du 30 avril au 1er mai 2026"


def test_nothing_to_write_up_is_an_error_naming_the_filter():
    with pytest.raises(NotFound):
        write_up([], "fr")
