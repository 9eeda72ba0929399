"""Charts of the organizer's pages: server-rendered SVG, each with a text alternative that states
the same figures (a summary for the <figcaption> and a table).

No chart library, no `style` attribute and no <style> element: the portal's Content-Security-Policy
(`style-src 'self'`) blocks both inside an inline SVG, while presentation attributes (`fill=`,
`font-size=`) are allowed. Lengths are viewBox units laid out for a 360-pixel phone; the SVG
scales to its container.

Each chart takes what the APIs return (the evaluation report's `ratings.likert`, registration's
attendance `day_summary`, the report's `knowledge_test`) and a locale for the numbers and dates;
its words go through `translate` (the page's gettext), so they are in the page's language.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

from emm_evaluation.domain.numbers import percent, round_half_up
from emm_evaluation.domain.questionnaire import LIKERT_LABELS

Translate = Callable[[str], str]

WIDTH = 340
FONT_SIZE = 12
CHAR_WIDTH = 6.6  # a generous average advance at FONT_SIZE, so estimated text never overflows
BAR_HEIGHT = 22
GAP = 8
LABEL_MIN_WIDTH = 18  # a segment narrower than this shows no count inside (the table has it)
DARK_TEXT, LIGHT_TEXT = "#1a1a1a", "#ffffff"

# Colour-blind-safe diverging scale (ColorBrewer RdBu), level 1 to 5, with the text colour on each.
LIKERT_FILLS = (("#b2182b", LIGHT_TEXT), ("#ef8a62", DARK_TEXT), ("#d9d9d9", DARK_TEXT),
                ("#67a9cf", DARK_TEXT), ("#2166ac", LIGHT_TEXT))
ATTENDANCE_STATUSES = ("present", "late", "absent", "excused")
ATTENDED = ("present", "late")
ATTENDANCE_FILLS = {"present": ("#1b7837", LIGHT_TEXT), "late": ("#a6dba0", DARK_TEXT),
                    "absent": ("#762a83", LIGHT_TEXT), "excused": ("#c2a5cf", DARK_TEXT),
                    "unmarked": ("#ffffff", DARK_TEXT)}
PRE_FILL, POST_FILL, AXIS = "#9ecae1", "#08519c", "#595959"


def _identity(message: str) -> str:
    return message


@dataclass(frozen=True)
class Table:
    """The chart's figures as rows of text, already formatted for the locale."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """`svg` is markup to embed as is; `summary` one sentence per bar for the <figcaption>."""

    title: str
    svg: Markup
    summary: tuple[str, ...]
    table: Table


# -- Likert answers per item ---------------------------------------------------------------------

def likert_chart(items: Sequence[Mapping[str, Any]], locale: str, translate: Translate = _identity) -> Chart:
    """Horizontal stacked bars, one per Likert item of a report (`ratings.likert` of the evaluation
    API: `text`, `answered`, `counts` by level "1".."5"), each level's share of the answers."""
    _ = translate
    language = Locale.parse(locale).language
    levels = LIKERT_LABELS.get(language, LIKERT_LABELS["en"])
    title = _("Answers per question")
    canvas = _Canvas(title)
    canvas.legend([(label, fill) for label, (fill, _text) in zip(levels, LIKERT_FILLS)])
    summary, rows = [], []
    for item in items:
        counts = [int(item["counts"].get(str(level), 0)) for level in range(1, 6)]
        answered = int(item["answered"])
        canvas.wrapped_text(item["text"])
        canvas.stacked_bar(0, WIDTH, [(count, *LIKERT_FILLS[index]) for index, count in enumerate(counts)],
                           total=answered, empty=_("No answers yet"))
        agreed = counts[3] + counts[4]
        summary.append(_("%(item)s: %(agreed)s of %(answered)s strongly agreed or agreed (%(percent)s).") % {
            "item": item["text"].rstrip(" .:?"), "agreed": _number(agreed, locale), "answered": _number(answered, locale),
            "percent": _percent(agreed, answered, locale)})
        rows.append((item["text"], *(_number(c, locale) for c in counts), _number(answered, locale),
                     _percent(agreed, answered, locale)))
    header = (_("Question"), *levels, _("Answers"), _("Agreed or strongly agreed"))
    return Chart(title, canvas.svg(), tuple(summary), Table(header, tuple(rows)))


# -- attendance per day --------------------------------------------------------------------------

def attendance_chart(days: Sequence[date | str], day_summary: Mapping[str, Mapping[str, int]], registered: int,
                     locale: str, translate: Translate = _identity) -> Chart:
    """One stacked bar per session day: present, late, absent, excused and not marked (of the
    `registered` participants), from registration's attendance `day_summary` (marked days only)."""
    _ = translate
    names = {"present": _("Present"), "late": _("Late"), "absent": _("Absent"), "excused": _("Excused"),
             "unmarked": _("Not marked")}
    title = _("Attendance per day")
    canvas = _Canvas(title)
    canvas.legend([(names[status], ATTENDANCE_FILLS[status][0]) for status in (*ATTENDANCE_STATUSES, "unmarked")])
    counted = [(_day(day), day_summary.get(_day(day).isoformat(), {})) for day in days]
    scale = max([registered, *(sum(counts.get(s, 0) for s in ATTENDANCE_STATUSES) for _d, counts in counted)])
    label_width = 84
    summary, rows = [], []
    for day, counts in counted:
        figures = {status: int(counts.get(status, 0)) for status in ATTENDANCE_STATUSES}
        figures["unmarked"] = max(registered - sum(figures.values()), 0)
        attended = figures["present"] + figures["late"]
        label = format_date(day, "EEE d MMM", locale=locale)
        canvas.row_label(label, label_width)
        canvas.stacked_bar(label_width, WIDTH - label_width,
                           [(figures[s], *ATTENDANCE_FILLS[s]) for s in (*ATTENDANCE_STATUSES, "unmarked")],
                           total=scale, empty=_("Nobody enrolled"))
        summary.append(_("%(day)s: %(present)s present, %(late)s late, %(absent)s absent, %(excused)s excused, "
                         "%(unmarked)s not marked; %(percent)s attended.") % {
            "day": format_date(day, "full", locale=locale), **{s: _number(n, locale) for s, n in figures.items()},
            "percent": _percent(attended, registered, locale)})
        rows.append((label, *(_number(figures[s], locale) for s in (*ATTENDANCE_STATUSES, "unmarked")),
                     _percent(attended, registered, locale)))
    header = (_("Day"), *(names[s] for s in (*ATTENDANCE_STATUSES, "unmarked")), _("Attended"))
    return Chart(title, canvas.svg(), tuple(summary), Table(header, tuple(rows)))


# -- knowledge test before and after -------------------------------------------------------------

@dataclass(frozen=True)
class ScorePair:
    """Mean (or one person's) score before and after the training, 0 to 100; None when not taken."""

    label: str
    pre: float | None
    post: float | None


def knowledge_chart(pairs: Sequence[ScorePair], locale: str, translate: Translate = _identity,
                    pass_mark: float | None = None) -> Chart:
    """Paired bars on a 0-100 scale, before (light) and after (dark), with the pass mark as a
    dashed line; e.g. one pair with the report's `knowledge_test.mean_pre` and `mean_post`."""
    _ = translate
    title = _("Knowledge test, before and after")
    canvas = _Canvas(title)
    canvas.legend([(_("Before"), PRE_FILL), (_("After"), POST_FILL)])
    summary, rows = [], []
    value_width = 34  # room right of a full bar for "100"
    mark_x = None if pass_mark is None else pass_mark / 100 * (WIDTH - value_width)
    for pair in pairs:
        canvas.wrapped_text(pair.label)
        canvas.value_bars([(pair.pre, PRE_FILL, _score(pair.pre, locale)),
                           (pair.post, POST_FILL, _score(pair.post, locale))], 100, WIDTH - value_width, mark_x)
        gain = None if pair.pre is None or pair.post is None else pair.post - pair.pre
        summary.append(_("%(label)s: %(pre)s before, %(post)s after (%(gain)s).") % {
            "label": pair.label.rstrip(" .:"), "pre": _score(pair.pre, locale), "post": _score(pair.post, locale),
            "gain": _signed(gain, locale)})
        rows.append((pair.label, _score(pair.pre, locale), _score(pair.post, locale), _signed(gain, locale)))
    if mark_x is not None:
        canvas.marker_label(mark_x, _("dashed line: pass mark %(mark)s") % {"mark": _score(pass_mark, locale)})
        summary.append(_("The pass mark is %(mark)s out of 100.") % {"mark": _score(pass_mark, locale)})
    header = (_("Group"), _("Before"), _("After"), _("Change"))
    return Chart(title, canvas.svg(), tuple(summary), Table(header, tuple(rows)))


# -- drawing -------------------------------------------------------------------------------------

class _Canvas:
    """Elements laid out top to bottom across WIDTH; `svg()` closes the drawing at its height."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self.y = 0.0

    def legend(self, entries: Sequence[tuple[str, str]]) -> None:
        x, line = 0.0, FONT_SIZE + 2
        for label, fill in entries:
            width = 16 + _text_width(label) + 12
            if x and x + width > WIDTH:
                x, self.y = 0.0, self.y + line + 4
            self.parts.append(f'<rect x="{x:g}" y="{self.y + 1:g}" width="12" height="12" fill="{fill}" '
                              f'stroke="{AXIS}" stroke-width="0.5"/>'
                              f'<text x="{x + 16:g}" y="{self.y + 11:g}">{_esc(label)}</text>')
            x += width
        self.y += line + GAP + 4

    def wrapped_text(self, text: str, max_lines: int = 3) -> None:
        for line in _wrap(text, int(WIDTH / CHAR_WIDTH), max_lines):
            self.y += FONT_SIZE + 2
            self.parts.append(f'<text x="0" y="{self.y - 3:g}">{_esc(line)}</text>')
        self.y += 3

    def row_label(self, text: str, width: float) -> None:
        line = _wrap(text, int((width - 4) / CHAR_WIDTH), 1)[0]
        self.parts.append(f'<text x="0" y="{self.y + BAR_HEIGHT / 2 + 4:g}">{_esc(line)}</text>')

    def stacked_bar(self, x: float, width: float, segments: Sequence[tuple[int, str, str]], total: int,
                    empty: str) -> None:
        """Segments (count, fill, text colour) from `x`, `total` filling `width`; counts inside."""
        if total <= 0:
            self.parts.append(f'<rect x="{x:g}" y="{self.y:g}" width="{width:g}" height="{BAR_HEIGHT}" '
                              f'fill="none" stroke="{AXIS}" stroke-dasharray="3 2"/>'
                              f'<text x="{x + 6:g}" y="{self.y + BAR_HEIGHT / 2 + 4:g}">{_esc(empty)}</text>')
        else:
            for count, fill, text_fill in segments:
                if count <= 0:
                    continue
                length = count / total * width
                self.parts.append(f'<rect x="{x:.1f}" y="{self.y:g}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                                  f'fill="{fill}" stroke="{AXIS}" stroke-width="0.5"/>')
                if length >= LABEL_MIN_WIDTH:
                    self.parts.append(f'<text x="{x + length / 2:.1f}" y="{self.y + BAR_HEIGHT / 2 + 4:g}" '
                                      f'text-anchor="middle" fill="{text_fill}">{count}</text>')
                x += length
        self.y += BAR_HEIGHT + GAP + 2

    def value_bars(self, bars: Sequence[tuple[float | None, str, str]], scale: float, width: float,
                   mark_x: float | None) -> None:
        """Bars (value, fill, label) of `value` out of `scale` across `width`, each labelled after
        its end, and a dashed line through them at `mark_x` (the pass mark) when given."""
        top, height = self.y, BAR_HEIGHT * 0.7
        for value, fill, label in bars:
            length = 0 if value is None else max(min(value, scale), 0) / scale * width
            if length:
                self.parts.append(f'<rect x="0" y="{self.y:g}" width="{length:.1f}" height="{height:g}" '
                                  f'fill="{fill}"/>')
            self.parts.append(f'<text x="{length + 4:.1f}" y="{self.y + height - 3:g}">{_esc(label)}</text>')
            self.y += height + 3
        if mark_x is not None:
            self.parts.append(f'<line x1="{mark_x:.1f}" y1="{top - 2:g}" x2="{mark_x:.1f}" y2="{self.y:g}" '
                              f'stroke="{AXIS}" stroke-width="1.5" stroke-dasharray="4 3"/>')
        self.y += GAP

    def marker_label(self, x: float, label: str) -> None:
        self.y += FONT_SIZE
        self.parts.append(f'<text x="0" y="{self.y:g}" fill="{AXIS}">{_esc(label)}</text>')
        self.y += GAP

    def svg(self) -> Markup:
        height = max(self.y, 1)
        return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height:g}" '
                      f'width="{WIDTH}" height="{height:g}" role="img" aria-label="{_esc(self.title)}" '
                      f'font-size="{FONT_SIZE}" fill="{DARK_TEXT}">'
                      f'<title>{_esc(self.title)}</title>{"".join(self.parts)}</svg>')


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """`text` broken at spaces into lines of at most `width` characters; the last one kept ends
    with an ellipsis when the text is longer (the table has it whole)."""
    lines: list[str] = []
    for word in text.split():
        while len(word) > width:  # a word longer than a line is cut
            lines.append(word[:width])
            word = word[width:]
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:width - 1].rstrip() + "…"
    return lines or [""]


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _day(day: date | str) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


def _number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def _percent(part: int, whole: int, locale: str) -> str:
    """A whole percentage that says 100 only when all and 0 only when none (as the headlines do)."""
    value = percent(part, whole)
    return "–" if value is None else format_percent(value / 100, locale=locale)


def _score(value: float | None, locale: str) -> str:
    # Rounded half up first, as the reports round (Babel alone would round half to even).
    return "–" if value is None else format_decimal(round_half_up(value, 1), format="#,##0.#", locale=locale)


def _signed(value: float | None, locale: str) -> str:
    return "–" if value is None else format_decimal(round_half_up(value, 1), format="+#,##0.#;-#,##0.#",
                                                     locale=locale)
