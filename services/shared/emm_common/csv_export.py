"""CSV exports that open correctly in a spreadsheet: every export of every service writes through here.

UTF-8 with a byte-order mark (Excel reads accents only with it; Python reads it back with
`utf-8-sig`), a header row, RFC 4180 quoting (a comma, quote or line break inside a cell is
quoted, a quote doubled) and CRLF line ends. A text cell a spreadsheet would take for a formula
(`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading apostrophe, so a name typed as
`=HYPERLINK(...)` stays text; a number, negative ones included, is written as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from starlette.responses import Response

BOM = "\ufeff"
MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def cell(value: Any) -> str:
    """One cell's text: empty for None, `true`/`false` for a boolean, ISO 8601 for a date or time,
    a list joined by `; `, and a formula-looking text defused."""
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = "; ".join(cell(item) for item in value)
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV as text, without the byte-order mark: the header row, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The CSV file's bytes: UTF-8 with a byte-order mark, then `csv_text`."""
    return (BOM + csv_text(header, rows)).encode("utf-8")


def safe_filename(name: str) -> str:
    """A file name for Content-Disposition: letters, digits, dot, dash and underscore only."""
    return _UNSAFE_IN_FILENAME.sub("_", name).strip("._") or "export.csv"


def csv_response(content: bytes, filename: str) -> Response:
    """A download of CSV bytes already written (by `csv_bytes`, or an API's answer passed on)."""
    return Response(content, media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{safe_filename(filename)}"'})


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A route's CSV export: `csv_bytes(header, rows)` as an attachment named `filename`."""
    return csv_response(csv_bytes(header, rows), filename)


# What the OpenAPI document says a CSV route answers.
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "UTF-8 CSV with a byte-order mark and a header row"}}
