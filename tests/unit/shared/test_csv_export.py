"""The one CSV writer of every export: what a spreadsheet needs to open it right, read back by Python."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

from emm_common.csv_export import BOM, csv_bytes, csv_download, csv_text, safe_filename

NAMES = ["Aïssatou N'Diaye", "João d'Almeida", 'Kofi "KK" Mensah, Jr.', "Ngozi\nOkafor", "Zoë Ferreira-Gonçalves"]


def read_back(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_names_with_accents_apostrophes_quotes_commas_and_line_breaks_survive_a_round_trip():
    content = csv_bytes(("full_name", "country"), [(name, "SN") for name in NAMES])
    rows = read_back(content)
    assert rows[0] == ["full_name", "country"]
    assert [row[0] for row in rows[1:]] == NAMES


def test_the_file_starts_with_a_utf8_byte_order_mark_and_ends_lines_with_crlf():
    content = csv_bytes(("a", "b"), [(1, 2)])
    assert content.startswith(BOM.encode("utf-8")) and content[:3] == b"\xef\xbb\xbf"
    assert content == b"\xef\xbb\xbfa,b\r\n1,2\r\n"
    assert not csv_text(("a",), []).startswith(BOM)


def test_a_formula_looking_text_stays_text_and_numbers_stay_numbers():
    rows = read_back(csv_bytes(("value",), [("=HYPERLINK(\"x\")",), ("@SUM(A1)",), ("+33 6",), ("-5.00",), (-3,),
                                            ("1e-3",), (None,), (True,), (["fr", "en"],), (date(2026, 5, 17),),
                                            (datetime(2026, 5, 17, 8, 30, tzinfo=timezone.utc),)]))
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(\"x\")", "'@SUM(A1)", "'+33 6", "-5.00", "-3", "1e-3", "",
                                            "true", "fr; en", "2026-05-17", "2026-05-17T08:30:00+00:00"]


def test_the_download_says_csv_utf8_and_names_a_safe_file():
    response = csv_download("roster-ses 1/../x.csv", ("a",), [("é",)])
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="roster-ses_1_.._x.csv"'
    assert read_back(response.body) == [["a"], ["é"]]
    assert safe_filename('"; evil=1') == "evil_1"
