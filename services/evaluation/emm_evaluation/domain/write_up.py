"""The write-up of one or more sessions, in the report's language, that reads like the
programme's own news item ("IOM WCA has organized with ACBC/EMM2.0 two sessions of
Training-of-trainers (ToT) on 17-20 May in Dakar ..."): the sessions with their dates and
audiences, how many attended each day, the headline sentences, the chosen quotes, and how many
trainers joined the pool.

Pure: the facts come in, the sentences go out, in a fixed order (sessions by start date then id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from emm_evaluation.domain.errors import InvalidInput, NotFound
from emm_evaluation.domain.questionnaire import LANGUAGES
from emm_evaluation.domain.quotes import Quote

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "pt": ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
           "novembro", "dezembro"),
}
KINDS = {
    "training_of_trainers": {"en": ("session of Training-of-Trainers (ToT)", "sessions of Training-of-Trainers (ToT)"),
                             "fr": ("session de formation des formateurs", "sessions de formation des formateurs"),
                             "pt": ("sessão de formação de formadores", "sessões de formação de formadores")},
    "government_delivery": {"en": ("training session for government officials",
                                   "training sessions for government officials"),
                            "fr": ("session de formation pour des agents de l'État",
                                   "sessions de formation pour des agents de l'État"),
                            "pt": ("sessão de formação para funcionários públicos",
                                   "sessões de formação para funcionários públicos")},
}
TEXT = {
    "en": {
        "title": "EMM2.0 in {places}: {count} {kind}",
        "intro": "{offices} {has} {count} {kind} for IOM's Essentials of Migration Management (EMM2.0) "
                 "programme {dates} in {places}.",
        "session": "Session {n}: {dates}, “{title}”, for {registered} participants{audience}.",
        "audience": " from {organizations}",
        "attended": "Attendance: {days}.",
        "attended_day": "{attended} on {day}",
        "quote_named": "{author} said: “{text}”",
        "quote_unnamed": "One participant said: “{text}”",
        "trainers_one": "One new trainer joined the pool of certified EMM2.0 trainers.",
        "trainers": "{count} new trainers joined the pool of certified EMM2.0 trainers.",
        "and": " and ",
        "has": ("organized", "organized"),
    },
    "fr": {
        "title": "EMM2.0 à {places} : {count} {kind}",
        "intro": "{offices} {has} organisé {count} {kind} du programme Fondamentaux de la gestion des migrations "
                 "(EMM2.0) de l'OIM {dates} à {places}.",
        "session": "Session {n} : {dates}, « {title} », pour {registered} participants{audience}.",
        "audience": " de {organizations}",
        "attended": "Présents : {days}.",
        "attended_day": "{attended} le {day}",
        "quote_named": "{author} a déclaré : « {text} »",
        "quote_unnamed": "Un participant a déclaré : « {text} »",
        "trainers_one": "Un nouveau formateur a rejoint le vivier des formateurs EMM2.0 certifiés.",
        "trainers": "{count} nouveaux formateurs ont rejoint le vivier des formateurs EMM2.0 certifiés.",
        "and": " et ",
        "has": ("a", "ont"),
    },
    "pt": {
        "title": "EMM2.0 em {places}: {count} {kind}",
        "intro": "{offices} {has} {count} {kind} do programa Fundamentos da Gestão das Migrações (EMM2.0) "
                 "da OIM {dates} em {places}.",
        "session": "Sessão {n}: {dates}, “{title}”, para {registered} participantes{audience}.",
        "audience": " de {organizations}",
        "attended": "Presenças: {days}.",
        "attended_day": "{attended} a {day}",
        "quote_named": "{author} declarou: “{text}”",
        "quote_unnamed": "Um participante declarou: “{text}”",
        "trainers_one": "Um novo formador juntou-se à bolsa de formadores EMM2.0 certificados.",
        "trainers": "{count} novos formadores juntaram-se à bolsa de formadores EMM2.0 certificados.",
        "and": " e ",
        "has": ("organizou", "organizaram"),
    },
}
MAX_ORGANIZATIONS = 3  # "for 12 participants from IOM RO Dakar, IBM RTS and 2 others" reads; ten names do not


@dataclass(frozen=True)
class SessionStory:
    """What the write-up tells of one session."""

    session_id: str
    title: str
    kind: str
    city: str
    organizing_office: str
    start_date: date
    end_date: date
    registered: int
    attended_by_day: Mapping[date, int]
    organizations: Sequence[str] = ()  # of the registered participants, one entry per person
    headlines: Sequence[str] = ()
    quotes: Sequence[Quote] = ()
    trainers_certified: int = 0


@dataclass(frozen=True)
class WriteUp:
    language: str
    title: str
    paragraphs: tuple[str, ...]
    sessions: tuple[SessionStory, ...] = field(default_factory=tuple)
    trainers_certified: int = 0


def write_up(stories: Sequence[SessionStory], language: str) -> WriteUp:
    """The news item of these sessions in `language` (fr, en or pt); NotFound without any."""
    if language not in LANGUAGES:
        raise InvalidInput("language", "must be fr, en or pt")
    if not stories:
        raise NotFound("session_id", "no session you may see matches: there is nothing to write up")
    text = TEXT[language]
    stories = tuple(sorted(stories, key=lambda s: (s.start_date, s.session_id)))
    count = len(stories)
    kinds = {s.kind for s in stories}
    kind_words = KINDS[kinds.pop() if len(kinds) == 1 else "training_of_trainers"][language][count > 1]
    places = join_words(list(dict.fromkeys(s.city for s in stories)), language)
    office_names = list(dict.fromkeys(s.organizing_office for s in stories))
    offices = join_words(office_names, language)
    dates = date_range(min(s.start_date for s in stories), max(s.end_date for s in stories), language)
    paragraphs = [text["intro"].format(offices=offices, has=text["has"][len(office_names) > 1], count=count,
                                       kind=kind_words, dates=dates, places=places)]
    for n, story in enumerate(stories, start=1):
        paragraphs.append(" ".join(session_sentences(story, n, language)))
    headlines = [sentence for story in stories for sentence in story.headlines]
    if headlines:
        paragraphs.append(" ".join(dict.fromkeys(headlines)))
    for story in stories:
        for quote in story.quotes:
            paragraphs.append(text["quote_named" if quote.author else "quote_unnamed"].format(
                author=quote.author, text=quote.text))
    certified = sum(s.trainers_certified for s in stories)
    if certified:
        paragraphs.append(text["trainers_one"] if certified == 1 else text["trainers"].format(count=certified))
    return WriteUp(language, text["title"].format(places=places, count=count, kind=kind_words),
                   tuple(paragraphs), stories, certified)


def session_sentences(story: SessionStory, n: int, language: str) -> list[str]:
    text = TEXT[language]
    audience = ""
    if story.organizations:
        audience = text["audience"].format(organizations=organizations(story.organizations, language))
    sentences = [text["session"].format(n=n, dates=date_range(story.start_date, story.end_date, language),
                                        title=story.title, registered=story.registered, audience=audience)]
    if any(story.attended_by_day.values()):  # no sentence when nobody took attendance
        days = [text["attended_day"].format(attended=attended, day=day_month(day, language))
                for day, attended in sorted(story.attended_by_day.items())]
        sentences.append(text["attended"].format(days=join_words(days, language)))
    return sentences


def organizations(names: Sequence[str], language: str) -> str:
    """The participants' organizations, the most represented first, at most three named."""
    ranked = [name for name, _ in sorted(Counter(n for n in names if n).items(), key=lambda i: (-i[1], i[0]))]
    others = len(ranked) - MAX_ORGANIZATIONS
    shown = ranked[:MAX_ORGANIZATIONS]
    if others > 0:
        shown.append({"en": f"{others} other organizations", "fr": f"{others} autres organisations",
                      "pt": f"{others} outras organizações"}[language] if others > 1 else
                     {"en": "one other organization", "fr": "une autre organisation",
                      "pt": "uma outra organização"}[language])
    return join_words(shown, language)


def join_words(words: Sequence[str], language: str) -> str:
    """"a", "a and b", "a, b and c" in `language`."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + TEXT[language]["and"] + words[-1]


def day_month(day: date, language: str) -> str:
    """"17 May", "17 mai", "17 de maio" (IOM writes British English); "1er mai" in French."""
    month = MONTHS[language][day.month - 1]
    return f"{day.day} de {month}" if language == "pt" else f"{ordinal(day.day, language)} {month}"


def ordinal(day: int, language: str) -> str:
    return "1er" if language == "fr" and day == 1 else str(day)


def date_range(start: date, end: date, language: str) -> str:
    """"on 17-20 May 2026" in the programme's style: "du 17 au 20 mai 2026", "de 17 a 20 de maio de 2026"."""
    month, year = MONTHS[language], start.year
    if start == end:
        return {"en": f"on {start.day} {month[start.month - 1]} {year}", "fr": f"le {ordinal(start.day, 'fr')} {month[start.month - 1]} {year}",
                "pt": f"a {start.day} de {month[start.month - 1]} de {year}"}[language]
    if (start.year, start.month) == (end.year, end.month):
        return {"en": f"on {start.day}-{end.day} {month[end.month - 1]} {end.year}",
                "fr": f"du {ordinal(start.day, 'fr')} au {end.day} {month[end.month - 1]} {end.year}",
                "pt": f"de {start.day} a {end.day} de {month[end.month - 1]} de {end.year}"}[language]
    first = {"en": f"{start.day} {month[start.month - 1]}", "fr": f"{ordinal(start.day, 'fr')} {month[start.month - 1]}",
             "pt": f"{start.day} de {month[start.month - 1]}"}[language]
    if start.year != end.year:
        first += f" {start.year}" if language != "pt" else f" de {start.year}"
    return {"en": f"from {first} to {end.day} {month[end.month - 1]} {end.year}",
            "fr": f"du {first} au {ordinal(end.day, 'fr')} {month[end.month - 1]} {end.year}",
            "pt": f"de {first} a {end.day} de {month[end.month - 1]} de {end.year}"}[language]


def write_up_to_dict(story: WriteUp) -> dict:
    """The write-up as JSON-ready data: the title and paragraphs to print, and the facts they tell."""
    return {
        "language": story.language, "title": story.title, "paragraphs": list(story.paragraphs),
        "trainers_certified": story.trainers_certified,
        "sessions": [{"session_id": s.session_id, "title": s.title, "kind": s.kind, "city": s.city,
                      "organizing_office": s.organizing_office, "start_date": s.start_date.isoformat(),
                      "end_date": s.end_date.isoformat(), "registered": s.registered,
                      "attended_by_day": [{"day": day.isoformat(), "attended": n}
                                          for day, n in sorted(s.attended_by_day.items())],
                      "headlines": list(s.headlines),
                      "quotes": [{"text": q.text, "author": q.author} for q in s.quotes],
                      "trainers_certified": s.trainers_certified} for s in story.sessions],
    }
