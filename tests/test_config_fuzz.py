"""Property test: a bad value for any config key is one ``Error:`` line and exit 2, never a crash.

For every key of ``[fetch]``, ``[defaults]`` and ``[[source]]`` (its ``links`` and
``rules`` tables too), Hypothesis generates values that must be refused: wrong types,
zero or negative where not allowed, huge integers, ``nan``/``inf``, numbers just past a
range, empty, overlong and control-character strings, bad URLs, selectors, patterns,
zones and durations.  Each is written into an otherwise valid file and checked twice:
``parse_config`` raises :class:`ConfigError` naming the key (never another exception),
and ``scraper run`` exits 2 with exactly one stderr line that starts with ``Error:``
and names the key.  Example counts are small so the whole module takes a few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.config import (
    FETCH_LIMITS,
    HOST_MAX,
    NAME_MAX,
    SOURCE_LIMITS,
    TEXT_MAX,
    URL_MAX,
    USER_AGENT_MAX,
    parse_config,
)
from scraper.errors import ConfigError

# -- writing TOML with any value in it --------------------------------------------------------


def toml_value(value: Any) -> str:
    """``value`` as a TOML value; strings escape every control character."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(
            {'"': '\\"', "\\": "\\\\"}.get(ch)
            or (f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F else ch)
            for ch in value
        )
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    raise TypeError(value)


SOURCE_URLS = 'listings = ["https://a.example/"]\nsitemaps = ["https://a.example/sitemap.xml"]\n'


@dataclass(frozen=True)
class Case:
    """Where a key lives, how its error names it, and the values it must refuse."""

    table: str  # "fetch", "defaults", "source", "source.links", "source.rules"
    name: str
    bad: st.SearchStrategy[Any]

    @property
    def key(self) -> str:
        """The key path the error message must name."""
        if self.table == "source" and self.name == "name":
            return "source[0].name"
        prefix = {"fetch": "fetch", "defaults": "defaults"}.get(self.table, "source.s")
        inner = self.table.partition(".")[2]
        return ".".join(part for part in (prefix, inner, self.name) if part)

    def config(self, value: Any) -> str:
        line = f"{self.name} = {toml_value(value)}\n"
        fetch = f"[fetch]\n{line}" if self.table == "fetch" else ""
        defaults = f"[defaults]\n{line}" if self.table == "defaults" else ""
        source_name = "" if self.name == "name" else 'name = "s"\n'
        source = f"[[source]]\n{source_name}"
        if self.table == "source":
            urls = "".join(u for u in SOURCE_URLS.splitlines(True) if not u.startswith(self.name))
            return f"{fetch}{defaults}{source}{urls}{line}"
        source += SOURCE_URLS
        if self.table.startswith("source."):
            source += f"[{self.table}]\n{line}"
        return f"{fetch}{defaults}{source}"


# -- strategies of bad values -------------------------------------------------------------------

huge_ints = st.integers(min_value=2**31, max_value=10**100) | st.sampled_from([2**63 - 1, 2**63])
not_finite = st.sampled_from([math.nan, math.inf, -math.inf])
tables = st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2)
arrays = st.lists(st.integers() | st.booleans(), max_size=3)


def out_of_range(kind: type, low: float, high: float) -> st.SearchStrategy[Any]:
    """Numbers outside ``low..high`` (and, for integer keys, any float)."""
    below = st.integers(max_value=math.ceil(low) - 1, min_value=-(10**30))
    above = st.integers(min_value=math.floor(high) + 1, max_value=10**30)
    values = below | above | huge_ints | huge_ints.map(lambda n: -n) | not_finite
    if kind is int:
        return values | st.floats(allow_nan=True, allow_infinity=True)
    too_small = st.floats(max_value=low, exclude_max=True, allow_infinity=False)
    too_big = st.floats(min_value=high, exclude_min=True, allow_infinity=False)
    return values | too_small | too_big


def not_a(kind: type) -> st.SearchStrategy[Any]:
    """TOML values of another type than ``kind`` (bool, int, float or str)."""
    texts = st.text(max_size=8)
    others: dict[type, st.SearchStrategy[Any]] = {
        bool: st.integers() | st.floats() | texts | arrays | tables,
        int: st.booleans() | texts | arrays | tables,
        float: st.booleans() | texts | arrays | tables,
        str: st.booleans() | st.integers() | st.floats() | arrays | tables,
    }
    return others[kind]


def bad_strings(limit: int) -> st.SearchStrategy[str]:
    """Empty or blank, too long, or holding a control character (binary junk included)."""
    control = st.characters(codec="utf-8", categories=["Cc"])
    with_control = st.tuples(st.text(max_size=10), control, st.text(max_size=10)).map("".join)
    blank = st.text(alphabet=" ", max_size=3)
    overlong = st.integers(min_value=limit + 1, max_value=limit + 50).map(lambda n: "x" * n)
    binary = st.binary(min_size=1, max_size=20).map(lambda b: b.decode("latin-1") + "\x00")
    return blank | with_control | overlong | binary


def string_key(limit: int, *semantic: str) -> st.SearchStrategy[Any]:
    values: st.SearchStrategy[Any] = not_a(str) | bad_strings(limit)
    return values | st.sampled_from(semantic) if semantic else values


BAD_URLS = [
    "http://a:99999/x",
    "http://a:abc/x",
    "http://a:0/x",
    "http://a:-1/x",
    "http://[::1/x",
    "http://::1]/x",
    "http://[zz::1]/x",
    "ftp://a.example/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "news.example.com/latest",
    "http:///x",
    "https://",
    "http://a b/",
    "http://a%00b/",
    "http://exa mple.com:80/",
]
bad_urls = (
    st.sampled_from(BAD_URLS)
    | bad_strings(URL_MAX)
    | st.integers()
    | st.booleans()
    | tables
    | st.integers(min_value=65536, max_value=10**30).map(lambda p: f"http://a.example:{p}/")
)
url_lists: st.SearchStrategy[Any] = (
    bad_urls.map(lambda u: [u])
    | bad_urls.map(lambda u: ["https://ok.example/", u])
    | bad_urls.filter(lambda u: isinstance(u, str))
    | st.integers()
    | tables
    | st.just(["https://ok.example/"] * 1001)
)

BAD_SCHEDULES = [
    "every 0s",
    "every 0.5s",
    "every 367d",
    "every 99999999999999999999999d",
    "every " + "9" * 400,
    "every 5 parsecs",
    "every",
    "61 * * * *",
    "* * * *",
    "* * 32 * *",
    "* * * 13 *",
    "* * * * 8",
    "hourly",
]
BAD_ZONES = ["Mars/Olympus", "Europe", "../etc/passwd", "/etc/localtime", "America/", "UTC+1"]
BAD_SELECTORS = ["h1[[", "a:nth-child(", "[", "..a", "a >", "a[href=", ":not(", "a,,b", "{}"]
BAD_PATTERNS = ["((", "[a-", "a{99999999999}", "*a", "(?P<1>x)", "(" * 600 + ")" * 600]
BAD_HOSTS = ["a/b", "a b", "http://a.example", "a.example:80", "..", "a..b", "x" * (HOST_MAX + 1)]
durations = st.sampled_from(["30s", "59s", "367d", "9999999999999d", "soon", "1 hour", "-1h", ""])
bad_recheck = (
    durations.map(lambda d: ["1h", d])
    | st.just(["6h", "1h"])
    | st.just(["1h", "60m"])
    | st.lists(st.integers(min_value=60), min_size=1, max_size=3)
    | st.just([f"{n}h" for n in range(1, 52)])
    | st.integers()
    | st.floats()
    | st.booleans()
    | tables
)

CASES: list[Case] = [
    Case("fetch", "user_agent", string_key(USER_AGENT_MAX, "naïve bot", "bot\u2028x", "ü")),
    Case("fetch", "respect_robots", not_a(bool)),
    *(
        Case("fetch", name, out_of_range(*limit) | not_a(limit[0]))
        for name, limit in FETCH_LIMITS.items()
    ),
    *(
        Case(table, name, out_of_range(*limit) | not_a(limit[0]))
        for table in ("defaults", "source")
        for name, limit in SOURCE_LIMITS.items()
    ),
    *(
        Case(table, name, not_a(bool))
        for table in ("defaults", "source")
        for name in ("follow_links", "allow_private", "discover_feeds", "robots_sitemaps")
    ),
    *(
        Case(table, "schedule", string_key(TEXT_MAX, *BAD_SCHEDULES))
        for table in ("defaults", "source")
    ),
    *(
        Case(table, "timezone", string_key(NAME_MAX, *BAD_ZONES))
        for table in ("defaults", "source")
    ),
    *(Case(table, "recheck", bad_recheck) for table in ("defaults", "source")),
    Case("source", "name", string_key(NAME_MAX, "a b", "a/b", "ä!", "x" * (NAME_MAX + 1))),
    *(Case("source", name, url_lists) for name in ("listings", "feeds", "sitemaps")),
    *(
        Case(table, name, string_key(TEXT_MAX, *BAD_SELECTORS))
        for table, name in (
            ("source.links", "selector"),
            ("source.links", "next"),
            ("source.rules", "title"),
            ("source.rules", "published"),
            ("source.rules", "body"),
        )
    ),
    Case("source.links", "pattern", string_key(TEXT_MAX, *BAD_PATTERNS)),
    Case(
        "source.links",
        "allow_domains",
        st.lists(string_key(HOST_MAX, *BAD_HOSTS), min_size=1, max_size=2) | st.integers(),
    ),
    Case(
        "source.rules",
        "exclude",
        st.lists(string_key(TEXT_MAX, *BAD_SELECTORS), min_size=1, max_size=2) | st.integers(),
    ),
    Case("source.rules", "date_format", string_key(TEXT_MAX)),
]
IDS = [case.key for case in CASES]


def test_every_key_is_fuzzed() -> None:
    """A key added to the config without a case here fails this test."""
    fuzzed = {(case.table, case.name) for case in CASES}
    for name in FETCH_LIMITS:
        assert ("fetch", name) in fuzzed
    for name in SOURCE_LIMITS:
        assert ("defaults", name) in fuzzed and ("source", name) in fuzzed
    from scraper.config import _SOURCE_DEFAULT_KEYS, FetchSettings

    assert {n for t, n in fuzzed if t == "fetch"} == set(FetchSettings.__dataclass_fields__)
    assert {n for t, n in fuzzed if t == "defaults"} == _SOURCE_DEFAULT_KEYS


def check_parse(case: Case, value: Any) -> None:
    try:
        parse_config(case.config(value), path="fuzz.toml")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml: ") and case.key in message, message
        assert len(message.splitlines()) == 1, message
    else:
        pytest.fail(f"{case.key} = {value!r} was accepted")


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_parse_config_raises_only_config_error_naming_the_key(
    case: Case, data: st.DataObject
) -> None:
    check_parse(case, data.draw(case.bad, label=case.key))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(
    max_examples=3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_cli_gives_one_error_line_and_exit_2(
    case: Case, workdir: Path, data: st.DataObject
) -> None:
    value = data.draw(case.bad, label=case.key)
    config, db = workdir / "fuzz.toml", workdir / "never.db"
    config.write_text(case.config(value), encoding="utf-8")
    done = run_cli("run", "--config", str(config), "--db", str(db))
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith(f"Error: {config}: "), done.stderr
    assert case.key in lines[0] and "internal error" not in lines[0], lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not db.exists()


NUMERIC = [("fetch", n, limit) for n, limit in FETCH_LIMITS.items()] + [
    (t, n, limit) for t in ("defaults", "source") for n, limit in SOURCE_LIMITS.items()
]


@pytest.mark.parametrize(
    ("table", "name", "limit"), NUMERIC, ids=[f"{t}.{n}" for t, n, _ in NUMERIC]
)
@settings(max_examples=10, deadline=None, database=None)
@given(data=st.data())
def test_numbers_inside_the_range_are_accepted(
    table: str, name: str, limit: tuple[type, float, float], data: st.DataObject
) -> None:
    kind, low, high = limit
    inside = (
        st.integers(min_value=math.ceil(low), max_value=math.floor(high))
        if kind is int
        else st.floats(min_value=low, max_value=high)
    )
    value = data.draw(inside | st.sampled_from([kind(low), kind(high)]))
    config = parse_config(Case(table, name, st.nothing()).config(value))
    got = getattr(config.fetch if table == "fetch" else config.source("s"), name)
    assert got == value and type(got) is kind
