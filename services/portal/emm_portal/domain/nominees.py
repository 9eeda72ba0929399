"""A list of nominees pasted or uploaded by an organizer, read into a preview before anything is saved.

The list comes from a spreadsheet: an exported CSV (comma or semicolon separated, French Excel
uses semicolons; UTF-8 with or without a BOM, UTF-16, or Windows-1252) or cells copied and pasted
(tab separated). Column names may be French, English or Portuguese. Each row is checked with
registration's own rules and bounds (its domain is imported, not copied), so a row the preview
accepts is a row the bulk enrollment accepts; every problem of a row is reported at once, by
field, as a message id the page translates. Two rows with the same email are flagged: the
second would be the same person.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale

from emm_portal.domain.form_input import COUNTRY_CODES, N_, TOO_LONG, Problem
from emm_registration.domain import fields as f
from emm_registration.domain.errors import InvalidInput
from emm_registration.domain.participant import SEXES, check_details, normalise_email

# What a row may give, in the order a list without a header row is read.
FIELDS = ("full_name", "email", "organization", "office", "country", "sex", "preferred_language", "phone",
          "job_title")
REQUIRED_COLUMNS = ("full_name", "email")
MAX_NOMINEES = f.MAX_MARKS  # registration's bound on one bulk enrollment
MAX_INPUT_BYTES = 1_000_000  # 500 rows of every field at its longest fit in about half of this
DELIMITERS = ("\t", ";", ",")  # preferred in this order when a header line has as many of each

# Message ids (English, translated by the page's catalogs); `%(name)s` placeholders (gettext's python-format) are filled from
# the problem's `values` after translation.
FIELD_LABELS = {"full_name": N_("Full name"), "email": N_("Email"), "organization": N_("Organisation"),
                "office": N_("Office"), "country": N_("Country"), "sex": N_("Sex"),
                "preferred_language": N_("Preferred language"), "phone": N_("Phone"), "job_title": N_("Position")}
ENTER_NAME = N_("Enter the person's full name")
ENTER_EMAIL = N_("Enter an email address")
BAD_EMAIL = N_("Enter an email address like name@example.org")
SAME_EMAIL = N_("Same email as row %(row)s: the same person")
ENTER_COUNTRY = N_("Enter a country")
BAD_COUNTRY = N_("Enter a country code such as SN, or the country's name")
ENTER_LANGUAGE = N_("Enter a preferred language: fr, en or pt")
BAD_LANGUAGE = N_("Write the language as fr, en or pt")
BAD_SEX = N_("Write female, male or other, or leave it empty")
BAD_PHONE = N_("Enter a phone number with its country code, like +221 77 000 00 00")
POSITION_TOO_LONG = N_("Position and office together must be at most %(max)s characters")
NOT_ACCEPTED = N_("This value is not accepted")
EMPTY_LIST = N_("The list is empty: paste rows from the spreadsheet or choose a CSV file")
TOO_MANY = N_("Too many people at once: at most %(max)s; split the list")
TOO_LARGE = N_("The file is too large: at most %(max)s kB")
WORKBOOK = N_("This is an Excel workbook: save it as CSV (UTF-8) first, then choose that file")
UNREADABLE = N_("The file cannot be read as text: save it as CSV (UTF-8)")
NO_HEADER = N_("The first row must name the columns, e.g. Full name; Email; Country")
MISSING_COLUMN = N_("No column for %(column)s")

# Header names as people write them, after `_key` (lower case, no accents, words only).
_HEADERS = {
    "full_name": ("full name", "name", "names", "nom", "nom complet", "nom et prenom", "nom et prenoms",
                  "prenom et nom", "prenom nom", "nom prenom", "participant", "nome", "nome completo"),
    "email": ("email", "e mail", "mail", "email address", "e mail address", "courriel", "adresse email",
              "adresse e mail", "adresse electronique", "adresse mail", "correio eletronico", "correio electronico",
              "endereco de email", "endereco de e mail", "endereco eletronico"),
    "organization": ("organisation", "organization", "organisme", "institution", "structure", "organizacao",
                     "instituicao", "entidade"),
    "office": ("office", "bureau", "escritorio", "duty station", "lieu d affectation", "posto"),
    "job_title": ("job title", "title", "position", "function", "fonction", "poste", "titre", "cargo", "funcao"),
    "country": ("country", "pays", "pais", "country code", "code pays", "codigo do pais"),
    "sex": ("sex", "gender", "sexe", "genre", "sexo", "genero"),
    "preferred_language": ("preferred language", "language", "langue", "langue preferee", "langue de travail",
                           "lingua", "lingua preferida", "idioma", "idioma preferido"),
    "phone": ("phone", "phone number", "telephone", "telephone number", "tel", "mobile", "portable", "whatsapp",
              "numero de telephone", "telefone", "telemovel", "celular", "numero de telefone"),
}
_LANGUAGE_NAMES = {
    "fr": ("fr", "fra", "fre", "french", "francais", "frances"),
    "en": ("en", "eng", "english", "anglais", "ingles"),
    "pt": ("pt", "por", "portuguese", "portugais", "portugues"),
}
_SEX_WORDS = {
    "female": ("f", "female", "woman", "w", "femme", "feminin", "feminine", "mulher", "feminino"),
    "male": ("m", "male", "man", "h", "homme", "masculin", "homem", "masculino"),
    "other": ("other", "autre", "outro"),
    "undisclosed": ("undisclosed", "prefer not to say", "not disclosed", "ne souhaite pas repondre",
                    "non communique", "prefiro nao dizer", "nao informado", "n a", "na", "nd"),
}


@dataclass(frozen=True)
class Nominee:
    """One row: `row` is its number in the spreadsheet (the header row is row 1), `written` what
    it gave by field, `person` registration's enrollment body (without `consent_to_contact`, which
    the organizer confirms for the whole list) or None when the row has a problem."""

    row: int
    written: Mapping[str, str]
    person: Mapping[str, Any] | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Preview:
    """The list as read: every row, the columns used and ignored, and problems of the whole list."""

    nominees: tuple[Nominee, ...] = ()
    columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def ready(self) -> list[Mapping[str, Any]]:
        """The people of the rows without a problem, in the list's order."""
        return [n.person for n in self.nominees if n.person is not None]

    @property
    def rows_with_problems(self) -> list[Nominee]:
        return [n for n in self.nominees if n.problems]

    @property
    def can_enroll(self) -> bool:
        """Whether there is anyone to enroll: no problem with the list itself, and a row without one."""
        return not self.problems and bool(self.ready)


def preview_nominees(source: str | bytes, *, default_language: str | None = None) -> Preview:
    """Read a pasted list (text) or an uploaded CSV file (bytes) and check every row.

    `default_language` (fr, en or pt; e.g. the session's language) is given to people whose row
    leaves the preferred language empty. Nothing is saved: the same source always gives the same
    preview, so the confirmation step reads the list again rather than trusting the page.
    """
    if isinstance(source, bytes):
        if len(source) > MAX_INPUT_BYTES:
            return Preview(problems=(Problem(None, TOO_LARGE, {"max": MAX_INPUT_BYTES // 1000}),))
        text, problem = _decode(source)
        if problem:
            return Preview(problems=(problem,))
    else:
        text = source
        if len(text.encode()) > MAX_INPUT_BYTES:
            return Preview(problems=(Problem(None, TOO_LARGE, {"max": MAX_INPUT_BYTES // 1000}),))
    records = list(csv.reader(text.splitlines(), delimiter=_delimiter(text)))
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()
    first = next((i for i, cells in enumerate(records) if any(c.strip() for c in cells)), None)
    if first is None:
        return Preview(problems=(Problem(None, EMPTY_LIST),))
    columns = _columns(records[first])
    if columns is not None:
        body_start, ignored = first + 1, tuple(h.strip() for h, name in zip(records[first], columns)
                                               if name is None and h.strip())
    elif any(_looks_like_email(cell) for cell in records[first]):
        columns, body_start, ignored = list(FIELDS), first, ()  # no header row: the documented order
    else:
        return Preview(problems=(Problem(None, NO_HEADER),))
    problems = [Problem(None, MISSING_COLUMN, {"column": FIELD_LABELS[name]})
                for name in REQUIRED_COLUMNS if name not in columns]
    nominees, first_row_of = [], {}
    for index in range(body_start, len(records)):
        cells = records[index]
        if not any(cell.strip() for cell in cells):
            continue
        if len(nominees) == MAX_NOMINEES:
            problems.append(Problem(None, TOO_MANY, {"max": MAX_NOMINEES}))
            break
        written = {name: cell.strip() for name, cell in zip(columns, cells) if name is not None and cell.strip()}
        nominee = check_row(index + 1, written, default_language)
        email = (nominee.person or {}).get("email") or _comparable_email(written.get("email"))
        if email and email in first_row_of:
            nominee = Nominee(nominee.row, written, None,
                              nominee.problems + (Problem("email", SAME_EMAIL, {"row": first_row_of[email]}),))
        elif email:
            first_row_of[email] = nominee.row
        nominees.append(nominee)
    if not nominees and not problems:
        problems.append(Problem(None, EMPTY_LIST))
    used = tuple(name for name in dict.fromkeys(columns) if name is not None)
    return Preview(tuple(nominees), used, ignored, tuple(problems))


def check_row(row: int, written: Mapping[str, str], default_language: str | None = None) -> Nominee:
    """One row's person, checked field by field with registration's rules; every problem at once."""
    problems: list[Problem] = []
    person: dict[str, Any] = {}

    def check(name: str, message: str, checker, *args) -> Any:
        try:
            return checker(*args)
        except InvalidInput:
            problems.append(Problem(name, message))
            return None

    def bounded(name: str, max_length: int) -> str | None:
        value = written.get(name)
        if value is not None and len(value) > max_length:
            problems.append(Problem(name, TOO_LONG, {"max": max_length}))
            return None
        return value

    name = bounded("full_name", f.NAME_LENGTH)
    if "full_name" not in written:
        problems.append(Problem("full_name", ENTER_NAME))
    person["full_name"] = name

    if "email" not in written:
        problems.append(Problem("email", ENTER_EMAIL))
    else:
        person["email"] = check("email", BAD_EMAIL, normalise_email, written["email"])

    country = written.get("country")
    if country is None:
        problems.append(Problem("country", ENTER_COUNTRY))
    else:
        person["country"] = check("country", BAD_COUNTRY, f.country, country_code(country))

    language = written.get("preferred_language")
    if language is None and default_language is None:
        problems.append(Problem("preferred_language", ENTER_LANGUAGE))
    else:
        code = language_code(language) if language is not None else default_language
        person["preferred_language"] = check("preferred_language", BAD_LANGUAGE, f.language, code,
                                             "preferred_language")

    if "sex" in written:
        person["sex"] = check("sex", BAD_SEX, f.choice, sex_code(written["sex"]), "sex", SEXES)

    if "phone" in written and person.get("country"):  # a wrong country is reported first: it decides the number
        person["phone"] = check("phone", BAD_PHONE, f.phone, written["phone"], person["country"])
    elif "phone" in written and len(written["phone"]) > f.PHONE_INPUT_LENGTH:
        problems.append(Problem("phone", TOO_LONG, {"max": f.PHONE_INPUT_LENGTH}))

    person["organization"] = bounded("organization", f.NAME_LENGTH)
    # Registration has no office field: as on the invitation form, the office goes with the
    # position (`job_title`), both in one when a row gives both.
    job_title, office = bounded("job_title", f.NAME_LENGTH), bounded("office", f.NAME_LENGTH)
    joined = " – ".join(part for part in (job_title, office) if part)
    if len(joined) > f.NAME_LENGTH:
        problems.append(Problem("office", POSITION_TOO_LONG, {"max": f.NAME_LENGTH}))
    elif joined:
        person["job_title"] = joined

    if problems:
        return Nominee(row, dict(written), None, tuple(problems))
    person = {key: value for key, value in person.items() if value is not None}
    try:  # the whole person, as the bulk enrollment will check it
        check_details({**person, "consent_to_contact": True})
    except InvalidInput as error:
        return Nominee(row, dict(written), None, (Problem(error.field, NOT_ACCEPTED),))
    return Nominee(row, dict(written), person)


def country_code(written: str) -> str | None:
    """An ISO alpha-2 code from a known code or a country's name in French, English or Portuguese
    ("Sénégal", "Cote d'Ivoire", "Guiné-Bissau"); otherwise None. Registration takes any two
    letters; a code no country has ("XX") is caught here, before the person gets it on their record."""
    code = written.strip().upper()
    if code in COUNTRY_CODES:
        return code
    return _COUNTRY_NAMES.get(_key(written))


def language_code(written: str) -> str:
    key = _key(written)
    return next((code for code, names in _LANGUAGE_NAMES.items() if key in names), written)


def sex_code(written: str) -> str:
    key = _key(written)
    return next((code for code, words in _SEX_WORDS.items() if key in words), written)


def _decode(data: bytes) -> tuple[str, Problem | None]:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):  # .xlsx (zip) or old .xls
        return "", Problem(None, WORKBOOK)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), None  # Excel's "CSV" on Windows in French, English, Portuguese
    except UnicodeDecodeError:
        return "", Problem(None, UNREADABLE)


def _delimiter(text: str) -> str:
    """The separator of the first non-empty line: the most frequent of tab, semicolon, comma outside quotes."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals: tab, then semicolon
    return best if counts[best] else ","


def _columns(header: list[str]) -> list[str | None] | None:
    """Field of each header cell (None: not used; a second column for the same field is not
    used either), or None when the row names fewer than two known columns (not a header)."""
    columns: list[str | None] = []
    for cell in header:
        key = _key(cell)
        name = _FIELD_OF_HEADER.get(key) or _FIELD_OF_HEADER.get(_key(re.sub(r"\(.*?\)", "", cell)))
        columns.append(name if name not in columns else None)
    return columns if sum(1 for name in columns if name) >= 2 else None


def _looks_like_email(cell: str) -> bool:
    return "@" in cell and " " not in cell.strip()


def _comparable_email(written: str | None) -> str | None:
    return written.strip().lower() if written else None


def _key(text: str) -> str:
    """Lower case, accents dropped, words separated by one space: how names are compared."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.lower()).split())  # "d’Ivoire" and "d'Ivoire" alike


_FIELD_OF_HEADER = {name: field_name for field_name, names in _HEADERS.items() for name in names}
_COUNTRY_NAMES = {_key(name): code for language in ("en", "fr", "pt")
                  for code, name in Locale.parse(language).territories.items() if code in COUNTRY_CODES}
