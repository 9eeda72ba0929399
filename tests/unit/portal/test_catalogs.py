"""Every text of the portal's code and templates is translated in French and Portuguese (the
source strings are English), and every catalog compiles."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from emm_portal.adapters.translations import LOCALE_DIR, load_translations

PORTAL = Path(__file__).parents[3] / "services" / "portal"


def source_messages() -> set[str]:
    with open(PORTAL / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(PORTAL, method_map, options_map):
        found.update(message if isinstance(message, tuple) else (message,))
    return {m for m in found if m}


def catalog(language: str):
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def test_the_code_and_templates_have_texts_to_translate():
    assert {"Skip to main content", "Page not found", "There is a problem"} <= source_messages()


def test_every_text_is_translated_in_french_and_portuguese():
    wanted = source_messages()
    for language in ("fr", "pt"):
        messages = catalog(language)
        untranslated = sorted(m for m in wanted
                              if m not in messages or not messages[m].string or messages[m].fuzzy)
        assert not untranslated, f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"


def test_the_english_catalog_lists_every_text_too():
    missing = sorted(source_messages() - {m.id for m in catalog("en") if m.id})
    assert not missing, missing[:5]


def test_catalogs_compile_and_translate():
    translations = load_translations()
    assert translations["fr"].gettext("Page not found") == "Page introuvable"
    assert translations["en"].gettext("Page not found") == "Page not found"
