"""Turn one date string (metadata value, ``<time>`` text, listing label) into an aware datetime.

The hot path is a handful of precompiled regular expressions covering ISO 8601, RFC 2822,
numeric day-first dates, month names in about twenty languages, CJK dates and relative
phrases ("vor 3 Stunden", "yesterday").  ``dateutil`` is only a last resort for short strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from dateutil import parser as du_parser

from ..clock import utc_now

__all__ = ["DateHit", "ParseOptions", "parse_date", "parse_with", "search_date"]

MIN_YEAR = 1990

# One line per month: full names, genitives and abbreviations across languages.
_MONTH_WORDS = (
    "january jan janvier janv gennaio gen enero ene janeiro januar jänner jän januari ianuarie "
    "ian stycznia styczeń styczen sty leden ledna led января январь янв січня січень січ ocak "
    "oca tammikuuta tammikuu ιανουαρίου ιαν január",
    "february feb février fevrier févr fevr fév fev febbraio febrero fevereiro februar feber "
    "februari februarie lutego luty lut únor února úno февраля февраль фев лютого лютий лют "
    "şubat şub subat helmikuuta helmikuu φεβρουαρίου φεβ február",
    "march mar mars märz maerz mär mrz marzo março marco maart marts martie marca marzec březen "
    "března bře марта март мар березня березень бер mart maret mac maaliskuuta maaliskuu "
    "μαρτίου március",
    "april apr avril avr aprile abril abr aprilie kwietnia kwiecień kwi duben dubna dub апреля "
    "апрель апр квітня квітень кві nisan nis huhtikuuta huhtikuu απριλίου απρ április",
    "may mai maggio mag mayo maio mei maj maja květen května kvě мая май травня травень тра "
    "mayıs mayis toukokuuta toukokuu μαΐου μαιου május",
    "june jun juin giugno giu junio junho juni iunie czerwca czerwiec cze červen června июня "
    "июнь июн червня червень haziran haz kesäkuuta kesäkuu ιουνίου ιουν június",
    "july jul juillet juil luglio lug julio julho juli iulie julai lipca lipiec lip červenec "
    "července июля июль июл липня липень temmuz tem heinäkuuta heinäkuu ιουλίου ιουλ július",
    "august aug août aout agosto ago augustus augusti agustus ogos sierpnia sierpień sie srpen "
    "srpna августа август авг серпня серпень ağustos ağu agustos elokuuta elokuu αυγούστου "
    "αυγ augusztus",
    "september sep sept septembre settembre set septiembre setiembre setembro septembrie "
    "września wrzesień wrz září сентября сентябрь сен вересня вересень eylül eyl syyskuuta "
    "syyskuu σεπτεμβρίου σεπ szeptember",
    "october oct octobre ottobre ott octubre outubro out oktober okt octombrie października "
    "październik paź říjen října октября октябрь окт жовтня жовтень ekim eki lokakuuta lokakuu "
    "οκτωβρίου οκτ október",
    "november nov novembre noviembre novembro noiembrie listopada listopad listopadu lis ноября "
    "ноябрь ноя листопада kasım kas marraskuuta marraskuu νοεμβρίου νοε",
    "december dec décembre déc dicembre dic diciembre dezembro dez dezember desember disember "
    "desember decembrie grudnia grudzień gru prosinec prosince декабря декабрь дек грудня "
    "грудень aralık ara joulukuuta joulukuu δεκεμβρίου δεκ",
)
MONTHS: dict[str, int] = {
    word: number for number, line in enumerate(_MONTH_WORDS, 1) for word in line.split()
}
# Month words are matched as any word, then looked up in MONTHS (a 300-way alternation is slow).
_MON = r"(?<![^\W\d_])(?P<mon>[^\W\d_]{3,14})\.?(?![^\W\d_])"
_YEAR = r"(?P<y>(?:19|20)\d{2})(?!\d)"
_I = re.IGNORECASE
_ISO_FULL = re.compile(
    r"(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})(?:[T ](?P<H>\d{2}):?(?P<M>\d{2})"
    r"(?::?(?P<S>\d{2})(?:[.,]\d+)?)?\s*(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?",
    _I,
)
_THAI_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "มกราคม ม.ค.", "กุมภาพันธ์ ก.พ.", "มีนาคม มี.ค.", "เมษายน เม.ย.", "พฤษภาคม พ.ค.",
            "มิถุนายน มิ.ย.", "กรกฎาคม ก.ค.", "สิงหาคม ส.ค.", "กันยายน ก.ย.", "ตุลาคม ต.ค.",
            "พฤศจิกายน พ.ย.", "ธันวาคม ธ.ค.",
        ),
        start=1,
    )
    for name in names.split()
}  # fmt: skip
_BUDDHIST_ERA = 543
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ymd",
        re.compile(
            r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?P<s>[-/.]|\.\s)(?P<m>\d{1,2})(?P=s)"
            r"(?P<d>\d{1,2})(?!\d)(?!\.\d)"
        ),
    ),
    (
        "cjk",
        re.compile(
            r"(?P<y>(?:19|20)\d{2})\s*[年년]\s*(?P<m>\d{1,2})\s*[月월]\s*"
            r"(?P<d>\d{1,2})\s*[日일]?"
        ),
    ),
    (
        "dmy",
        re.compile(
            r"(?<![\d.])(?P<d>\d{1,2})(?P<s>\.\s?|/|-)(?P<m>\d{1,2})(?P=s)"
            r"(?P<y>(?:19|20)?\d{2})(?!\d)(?!\.\d)"
        ),
    ),
    (
        "dMy",
        re.compile(
            r"(?<![\d.])(?P<d>\d{1,2})(?:st|nd|rd|th|er|º|°)?\.?(?:\s*(?:de|of)\b)?"
            r"[\s./-]*" + _MON + r"(?:\s*(?:de|del)\b)?[\s./,-]*" + _YEAR,
            _I,
        ),
    ),
    ("Mdy", re.compile(_MON + r"\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?(?!\d),?\s*" + _YEAR, _I)),
    ("yMd", re.compile(r"(?<!\d)" + _YEAR + r"\.?\s+" + _MON + r"\s+(?P<d>\d{1,2})(?!\d)", _I)),
    (  # Thai, in the Buddhist era: "12 เม.ย. 2567 09:45 น."
        "thai",
        re.compile(
            r"(?<!\d)(?P<d>\d{1,2})\s*(?P<thmon>"
            + "|".join(sorted(map(re.escape, _THAI_MONTHS), key=len, reverse=True))
            + r")\s*(?P<y>(?:19|20|25)\d{2})(?!\d)"
        ),
    ),
    (  # C's asctime, as mail archives print it: "Tue Sep  6 14:22:31 UTC 2022"
        "ctime",
        re.compile(
            _MON + r"\s+(?P<d>\d{1,2})\s+(?P<clock>\d{1,2}:\d{2}(?::\d{2})?(?:\s+[A-Z]{1,5})?)"
            r"\s+" + _YEAR,
            _I,
        ),
    ),
)

_ZONES: dict[str, float] = {
    "Z": 0, "UTC": 0, "GMT": 0, "UT": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "MEZ": 1,
    "CEST": 2, "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "ICT": 7, "WIB": 7, "HKT": 8,
    "SGT": 8, "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12,
    "NZDT": 13, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
    "PDT": -7, "AKST": -9, "HST": -10,
}  # fmt: skip
# Zone names are matched case-sensitively: "est"/"ist" are words in French and German.
_ZONE_CORE = (
    r"(?-i:(?P<zn>" + "|".join(sorted(_ZONES, key=len, reverse=True)) + r"))\b"
    r"(?:\s*(?P<off>[+-]\d{1,2}(?::?\d{2})?))?|(?P<off2>[+-]\d{1,2}(?::?\d{2})?)"
)
_ZONE = r"(?:\s*\(?\s*(?:" + _ZONE_CORE + r"))?"
_AMPM = r"(?:\s*(?P<ap>[ap])\.?\s?m\b\.?)?"
_TIME_AFTER = re.compile(
    r"(?:T|[^\w]{0,6})(?:(?:um|at|à|a\s+las?|alle(?:\s+ore)?|ore|às|kl|klo|o|в|saat|den|om)"
    r"\.?\s*)?(?P<H>\d{1,2})(?:[:h](?P<M>\d{2})(?::(?P<S>\d{2}))?|\.(?P<M2>\d{2})"
    r"(?=\s*(?:[ap]\.?m|uhr))|(?=\s*[ap]\.?\s?m\b))" + _AMPM + r"(?:\s*(?:uhr|h)\b)?" + _ZONE,
    _I,
)
_TIME_BEFORE = re.compile(
    r"(?<!\d)(?P<H>\d{1,2})[:h](?P<M>\d{2})(?::(?P<S>\d{2}))?"
    + _AMPM
    + r"(?:\s*uhr)?"
    + _ZONE
    + r"[\s,|·\-–—]{0,4}(?:\w{0,3}[\s,]{1,2})?$",
    _I,
)
_ZONE_TAIL = re.compile(r"(?<=\d)\s*\(?(?:" + _ZONE_CORE + r")\)?$", _I)
_CJK_TIME = re.compile(
    r"\s*(?:(?P<pm>午後|오후|下午|PM)|(?P<am>午前|오전|上午|AM))?\s*(?P<H>\d{1,2})\s*"
    r"(?:[時시点點]\s*(?:(?P<M>\d{1,2})\s*[分분])?|:(?P<M2>\d{2}))",
    _I,
)

_UNITS = (
    (60, "minutes minute minuten mins min minutos minuto minuti minutter minuter минут минуты "
         "минуту хвилин хвилини dakika minut minuty minutę minutami minuuttia menit 分 분"),
    (3600, "hours hour hrs hr h stunden stunde std heures heure horas hora ore ora uur timer "
           "time timmar timme часов часа час годин години saat godzin godziny godzinę hodin "
           "hodiny hodinu hodinami tuntia jam 時間 시간"),
    (86400, "days day d tagen tag tage jours jour días dias día dia giorni giorno dagen dag "
            "dager dagar dni dzień дней дня день днів дні gün dny dnem päivää hari 日 일"),
    (604800, "weeks week wochen woche semaines semaine semanas semana settimane settimana "
             "weken uker veckor tygodni tygodnie недель недели неделю тижнів hafta týdny"),
)  # fmt: skip
_UNIT_SECONDS = {word: secs for secs, words in _UNITS for word in words.split()}
_UNIT_RE = "|".join(sorted(map(re.escape, _UNIT_SECONDS), key=len, reverse=True))
_RELATIVE = re.compile(
    r"(?:\b(?P<pre>vor|il\s+y\s+a|hace|há|ha|před|pred)\s+)?"
    r"(?<![^\W\d_])(?P<n>\d{1,3}|an?|one|einer?|einem|une?|una|uno|um|uma)\s*(?P<unit>"
    + _UNIT_RE
    + r")\b\.?(?:\s*(?P<post>ago|fa|geleden|назад|тому|siden|sedan|önce|temu|"
    r"sitten|yang\s+lalu|lalu)\b)?|(?P<cn>\d{1,3})\s*(?P<cunit>分|時間|日|분|시간|일)\s*(?:前|전)",
    _I,
)
_DAY_WORDS = re.compile(
    r"(?<![^\W\d_])(?P<w>today|heute|aujourd'hui|aujourd’hui|hoy|oggi|hoje|vandaag|сегодня|"
    r"сьогодні|i\s?dag|bugün|dzisiaj|dziś|dnes|tänään|yesterday|gestern|hier|ayer|ieri|ontem|"
    r"gisteren|вчера|вчора|i\s?går|dün|wczoraj|včera|eilen)(?![^\W\d_])|(?P<cw>今日|오늘|昨日|어제)",
    _I,
)
_YESTERDAY = frozenset(
    "yesterday gestern hier ayer ieri ontem gisteren вчера вчора i går igår dün wczoraj včera "
    "eilen 昨日 어제".split(" ")
)
_FORMAT_TIME = re.compile(r"%[HIMSXcTRfp]")


@dataclass(frozen=True)
class ParseOptions:
    """How to read ambiguous strings: zone for naive values, reference time, field order."""

    tz: tzinfo = UTC
    now: datetime = field(default_factory=utc_now)
    dayfirst: bool = True  # 01/09/2026 is 1 September unless False (en-US pages)
    date_format: str | None = None
    allow_relative: bool = True


@dataclass(frozen=True)
class DateHit:
    """A date found in a string: the value, whether a time of day was given, where it starts."""

    value: datetime
    has_time: bool
    start: int = 0
    relative: bool = False  # resolved against ``now`` ("vor 3 Stunden", "yesterday")


def parse_date(
    text: str,
    *,
    tz: tzinfo = UTC,
    date_format: str | None = None,
    now: datetime | None = None,
) -> tuple[datetime, bool] | None:
    """Read one date string as ``(aware datetime, has_time)``; None when it holds no valid date."""
    opts = ParseOptions(tz=tz, date_format=date_format)
    if now is not None:
        opts = replace(opts, now=_aware(now, UTC))
    hit = parse_with(text, opts)
    return (hit.value, hit.has_time) if hit else None


def parse_with(text: str, opts: ParseOptions) -> DateHit | None:
    """Like :func:`parse_date` with all knobs: format, ISO, patterns, relative, dateutil."""
    text = _normalize(text)
    if not text:
        return None
    if opts.date_format:
        hit = _strptime(text, opts)
        if hit:
            return hit
    hit = _iso_full(text, opts) or _epoch(text, opts) or search_date(text, opts)
    if hit is None and len(text) <= 60 and re.search(r"(?<!\d)(19|20)\d\d(?!\d)", text):
        hit = _dateutil(text, opts)
    return hit


def search_date(text: str, opts: ParseOptions) -> DateHit | None:
    """The first date written anywhere in ``text`` (a sentence, a byline, a label)."""
    hits = [hit for hit in _pattern_hits(text, opts) if hit is not None]
    if hits:
        return min(hits, key=lambda hit: hit.start)
    if opts.allow_relative and len(text) <= 60:
        return _relative(text, opts)
    return None


def _pattern_hits(text: str, opts: ParseOptions) -> Iterator[DateHit | None]:
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            hit = _from_match(kind, match, text, opts)
            if hit is not None:
                yield hit
                break


def _from_match(kind: str, m: re.Match[str], text: str, opts: ParseOptions) -> DateHit | None:
    groups = m.groupdict()
    year = int(groups["y"])
    if year < 100:
        year += 2000
    if kind == "thai":
        month, day = _THAI_MONTHS[groups["thmon"]], int(groups["d"])
        year -= _BUDDHIST_ERA if year > 2400 else 0
    elif "mon" in groups:
        month, day = MONTHS.get(groups["mon"].lower(), 0), int(groups["d"])
    elif kind == "dmy":
        day, month = int(groups["d"]), int(groups["m"])
        if (groups["s"] == "/" and not opts.dayfirst and day <= 12) or month > 12:
            day, month = month, day
    else:
        month, day = int(groups["m"]), int(groups["d"])
    day_value = _valid_date(year, month, day, opts)
    if day_value is None:
        return None
    if kind == "ctime":
        tm = _time_near(f" {m['clock']}", 0, 0, False)
    else:
        tm = _time_near(text, m.start(), m.end(), kind == "cjk")
    return _combine(day_value, tm, opts, m.start())


_TimeInfo = tuple[time, tzinfo | None]


def _time_near(text: str, start: int, end: int, cjk: bool) -> _TimeInfo | None:
    after = text[end : end + 48]
    if cjk:
        c = _CJK_TIME.match(after)
        if c:
            hour = int(c["H"]) + (12 if c["pm"] and int(c["H"]) < 12 else 0)
            return _mk_time(hour, c["M"] or c["M2"] or "0", None, None)
    m = _TIME_AFTER.match(after) or _TIME_BEFORE.search(text[max(0, start - 32) : start])
    if m is None:
        return None
    hour = int(m["H"])
    if m["ap"] and 1 <= hour <= 12:  # "14:30 am Montag" is German, not a.m.
        hour = hour % 12 + (12 if m["ap"].lower() == "p" else 0)
    minute = m["M"] or m.groupdict().get("M2") or "0"
    return _mk_time(hour, minute, m["S"], _zone_of(m))


def _mk_time(hour: int, minute: str, second: str | None, zone: tzinfo | None) -> _TimeInfo | None:
    try:
        return time(hour, int(minute), int(second or 0)), zone
    except ValueError:
        return None


def _zone_of(m: re.Match[str]) -> tzinfo | None:
    return _zone(m["zn"], m["off"] or m["off2"])


def _zone(name: str | None, offset: str | None) -> tzinfo | None:
    hours = _ZONES.get(name) if name else None
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hh, mm = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
        if int(hh) > 14 or int(mm) > 59:
            return None
        return timezone(sign * timedelta(hours=int(hh), minutes=int(mm)))
    if hours is None:
        return None
    return UTC if hours == 0 else timezone(timedelta(hours=hours))


def _combine(day: date, tm: _TimeInfo | None, opts: ParseOptions, start: int) -> DateHit:
    if tm is None:
        return DateHit(datetime.combine(day, time(), opts.tz), False, start)
    clock, zone = tm
    return DateHit(datetime.combine(day, clock, zone or opts.tz), True, start)


def _valid_date(year: int, month: int, day: int, opts: ParseOptions) -> date | None:
    if not MIN_YEAR <= year <= opts.now.year + 1:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _iso_full(text: str, opts: ParseOptions) -> DateHit | None:
    m = _ISO_FULL.fullmatch(text)
    if m is None:
        return None
    day = _valid_date(int(m["y"]), int(m["m"]), int(m["d"]), opts)
    if day is None:
        return None
    if m["H"] is None:
        return _combine(day, None, opts, 0)
    zone = _zone("Z", None) if m["z"] and m["z"].upper() == "Z" else _zone(None, m["z"])
    tm = _mk_time(int(m["H"]), m["M"], m["S"], zone)
    return _combine(day, tm, opts, 0) if tm else None


def _epoch(text: str, opts: ParseOptions) -> DateHit | None:
    if not (text.isdigit() and len(text) in (10, 13)):
        return None
    value = datetime.fromtimestamp(int(text[:10]), UTC)
    if not MIN_YEAR <= value.year <= opts.now.year + 1:
        return None
    return DateHit(value, True, 0)


def _strptime(text: str, opts: ParseOptions) -> DateHit | None:
    assert opts.date_format is not None
    try:
        value = datetime.strptime(text, opts.date_format)
    except ValueError:
        return None
    if not MIN_YEAR <= value.year <= opts.now.year + 1:
        return None
    has_time = bool(_FORMAT_TIME.search(opts.date_format))
    return DateHit(_aware(value, opts.tz), has_time, 0)


def _relative(text: str, opts: ParseOptions) -> DateHit | None:
    now = opts.now.astimezone(opts.tz)
    m = _RELATIVE.search(text)
    if m and (m["pre"] or m["post"] or m["cn"]):
        count_text = (m["n"] or m["cn"]).lower()
        count = int(count_text) if count_text.isdigit() else 1
        secs = _UNIT_SECONDS[(m["unit"] or m["cunit"]).lower()] * count
        if secs < 86400:
            return DateHit(now - timedelta(seconds=secs), True, m.start(), relative=True)
        hit = _combine((now - timedelta(seconds=secs)).date(), None, opts, m.start())
        return replace(hit, relative=True)
    w = _DAY_WORDS.search(text)
    if w is None or re.search(r"\d{3}", text):
        return None  # "1845-heute" is a span of years, not "today"
    word = re.sub(r"\s+", " ", (w["w"] or w["cw"]).lower())
    day = now.date() - timedelta(days=1 if word in _YESTERDAY else 0)
    hit = _combine(day, _time_near(text, w.start(), w.end(), False), opts, w.start())
    return replace(hit, relative=True)


def _dateutil(text: str, opts: ParseOptions) -> DateHit | None:
    defaults = (datetime(2001, 1, 1), datetime(2002, 2, 2, 1, 1))
    try:
        first, second = (
            du_parser.parse(text, default=d, dayfirst=opts.dayfirst, ignoretz=True)
            for d in defaults
        )
    except (ValueError, OverflowError):
        return None
    if first.date() != second.date():
        return None  # day, month or year missing
    if _valid_date(first.year, first.month, first.day, opts) is None:
        return None
    if first.time() != second.time():  # no time of day in the text
        return DateHit(datetime.combine(first.date(), time(), opts.tz), False)
    zone = _ZONE_TAIL.search(text)
    return DateHit(first.replace(tzinfo=(_zone_of(zone) if zone else None) or opts.tz), True)


def _normalize(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


def _aware(value: datetime, tz: tzinfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)
