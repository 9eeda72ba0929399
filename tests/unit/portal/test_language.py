from emm_portal.domain.language import choose_language, from_accept_language, supported


def test_accept_language_gives_the_first_of_ours_by_quality():
    assert from_accept_language("pt-BR,pt;q=0.9,en;q=0.8") == "pt"
    assert from_accept_language("de-DE, en;q=0.5, fr;q=0.7") == "fr"
    assert from_accept_language("de, es") is None
    assert from_accept_language("en;q=0, pt;q=0.1") == "pt"
    assert from_accept_language("fr;q=abc, en") == "en"
    assert from_accept_language(None) is None


def test_asked_then_chosen_then_browser_then_french():
    assert choose_language("en", "pt", "fr") == "en"
    assert choose_language(None, "pt", "en") == "pt"
    assert choose_language("xx", None, "en-GB") == "en"
    assert choose_language(None, None, "de") == "fr"


def test_regional_variants_count_as_our_language():
    assert supported("pt_BR") == "pt" and supported("EN-gb") == "en" and supported("es") is None
