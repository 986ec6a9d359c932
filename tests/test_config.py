"""Config loading: valid files become dataclasses; bad ones name the file, key and expectation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import run_cli

from scraper.config import DEFAULT_RECHECK, Source, load_config, parse_config
from scraper.errors import ConfigError
from scraper.schedules import MAX_INTERVAL, Schedule, parse_duration

GOOD = """
[fetch]
user_agent = "test-agent/1.0"
retries = 2
max_bytes = 1000000

[defaults]
delay = 0.5
timezone = "Europe/Berlin"

[[source]]
name = "example"
listings = ["https://news.example.com/latest"]
feeds = ["https://news.example.com/rss.xml"]
schedule = "*/15 * * * *"
concurrency = 3

[source.links]
selector = "ul.latest a"
pattern = "/\\\\d{4}/"
next = "a.next"

[source.rules]
title = "h1.headline"
date_format = "%d.%b.%Y"
exclude = [".share", ".related"]

[[source]]
name = "other"
sitemaps = ["https://other.example.org/sitemap.xml"]
schedule = "every 30s"
timezone = "UTC"
"""


def test_valid_config_becomes_dataclasses() -> None:
    config = parse_config(GOOD, path="sources.toml")
    assert config.fetch.user_agent == "test-agent/1.0"
    assert config.fetch.retries == 2
    example = config.source("example")
    assert example.delay == 0.5  # from [defaults]
    assert example.concurrency == 3
    assert example.link_selector == "ul.latest a"
    assert example.link_pattern == "/\\d{4}/"
    assert example.rules.title == "h1.headline"
    assert example.rules.exclude == (".share", ".related")
    assert example.rules.timezone == "Europe/Berlin"
    assert example.schedule == Schedule(kind="cron", cron="*/15 * * * *", text="*/15 * * * *")
    assert example.domains == ("news.example.com",)
    other = config.source("other")
    assert other.rules.timezone == "UTC"  # overrides the default
    assert other.schedule.kind == "interval" and other.schedule.seconds == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 10m", 600),
        ("every 30s", 30),
        ("every 2h", 7200),
        ("every 1d", 86400),
        ("every 45", 45),
    ],
)
def test_interval_schedules(text: str, expected: float) -> None:
    assert Schedule.parse(text).seconds == expected


@pytest.mark.parametrize(
    "text",
    [
        "every",
        "every 0s",
        "* * *",
        "61 * * * *",
        "hourly",
        "every 367d",
        "every 99999999999999999999999d",
        "every " + "9" * 400 + "s",  # float("9" * 400) would be inf
        "every 10 parsecs",
    ],
)
def test_bad_schedules(text: str) -> None:
    with pytest.raises(ValueError):
        Schedule.parse(text)


BASE = '[[source]]\nname = "s"\nlistings = ["https://a.example/"]\n'


@pytest.mark.parametrize(
    ("expr", "weekdays"),
    [
        ("0 9 * * 7", ["Sun", "Sun", "Sun"]),  # crontab: 7 and 0 are Sunday
        ("0 9 * * 0", ["Sun", "Sun", "Sun"]),
        ("0 9 * * 5-7", ["Fri", "Sat", "Sun", "Fri"]),
        ("0 9 * * 6,7", ["Sat", "Sun", "Sat"]),
        ("0 9 * * 1-5", ["Wed", "Thu", "Fri", "Mon"]),
        ("0 9 * * fri-sat", ["Fri", "Sat", "Fri"]),
    ],
)
def test_crontab_weekdays_load_and_fire_on_those_days(expr: str, weekdays: list[str]) -> None:
    schedule = parse_config(BASE + f'schedule = "{expr}"\n').source("s").schedule
    assert (schedule.kind, schedule.cron) == ("cron", expr)
    trigger = schedule.trigger(timezone=UTC)
    fires, fire = [], trigger.get_next_fire_time(None, datetime(2024, 5, 1, 8, tzinfo=UTC))  # Wed
    while fire is not None and len(fires) < len(weekdays):
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert [f.strftime("%a") for f in fires] == weekdays
    assert all((f.hour, f.minute) == (9, 0) for f in fires)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[[source]]\nname = 's'\n", "source.s", "listings"),
        ('[[source]]\nlistings = ["https://a.example/"]\n', "source[0].name", "missing"),
        ('[[source]]\nname = "s"\nlistings = ["ftp://a"]\n', "source.s.listings[0]", "http(s) URL"),
        (BASE + 'delay = "fast"\n', "source.s.delay", "expected a number"),
        (BASE + "delay = -1\n", "source.s.delay", "from 0 to 3600"),
        (BASE + "concurrency = 1.5\n", "source.s.concurrency", "an integer"),
        (BASE + 'schedule = "sometimes"\n', "source.s.schedule", "cron expression"),
        (BASE + 'timezone = "Mars/Olympus"\n', "source.s.timezone", "unknown time zone"),
        (BASE + "colour = 1\n", "source.s.colour", "unknown key"),
        (BASE + '[source.rules]\ntitle = "h1[["\n', "source.s.rules.title", "invalid CSS"),
        (BASE + '[source.links]\npattern = "(("\n', "source.s.links.pattern", "regular expression"),
        (BASE + "[source.links]\nselector = 3\n", "source.s.links.selector", "string"),
        ("[fetch]\nretries = true\n" + BASE, "fetch.retries", "integer"),
        ("[fetch]\nrespect_robots = 1\n" + BASE, "fetch.respect_robots", "true or false"),
        (BASE + BASE, "source[1].name", "duplicate"),
        ("", "source", "no sources"),
        ("source = 3\n", "source", "array of tables"),
        ("[[source]\n", None, "invalid TOML"),
    ],
)
def test_bad_config_names_file_key_and_expectation(text: str, key: str | None, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path="conf/bad.toml")
    message = str(info.value)
    assert message.startswith("conf/bad.toml")
    if key:
        assert info.value.key == key
        assert key in message
    assert words in message


def test_load_config_missing_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="binary.toml"):
        load_config(binary)


def test_shipped_configs_are_valid() -> None:
    root = Path(__file__).resolve().parent.parent / "config"
    files = sorted(root.glob("*.toml"))
    assert files, "config/ ships at least one example"
    for path in files:
        assert load_config(path).sources


def test_intervals_are_capped_at_366_days() -> None:
    assert Schedule.parse("every 366d").seconds == MAX_INTERVAL == 366 * 86400
    assert Schedule.parse("EVERY 1.5h").seconds == 5400
    with pytest.raises(ValueError, match="longer than 366 days"):
        Schedule.parse("every 99999999999999999999999d")
    with pytest.raises(ValueError, match="shorter than one second"):
        Schedule.parse("every 0.5s")
    assert parse_duration("000000000000001m") == 60  # leading zeros are not "absurd"
    with pytest.raises(ValueError, match="shorter than 60 seconds"):
        parse_duration("59s", minimum=60)


# -- every value bounded ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[fetch]\nconcurrency = 9223372036854775807\n", "fetch.concurrency", "from 1 to 1000"),
        ("[fetch]\nretries = 9223372036854775807\n", "fetch.retries", "from 0 to 20"),
        ("[fetch]\nbackoff_base = 1e308\n", "fetch.backoff_base", "from 0.001 to 3600"),
        ("[fetch]\nbackoff_max = 1e308\n", "fetch.backoff_max", "from 0.001 to 3600"),
        ("[fetch]\ntotal_timeout = nan\n", "fetch.total_timeout", "(finite), got nan"),
        ("[fetch]\nread_timeout = -inf\n", "fetch.read_timeout", "(finite), got -inf"),
        ("[fetch]\nmax_bytes = 0\n", "fetch.max_bytes", "from 1 to 1000000000"),
        ("[fetch]\nmax_redirects = 101\n", "fetch.max_redirects", "from 1 to 100"),
        ('[fetch]\nuser_agent = "bot\\r\\nX-Evil: 1"\n', "fetch.user_agent", "control"),
        ('[fetch]\nuser_agent = "bot\\u0000"\n', "fetch.user_agent", "control"),
        ('[fetch]\nuser_agent = "Zeitungsleser für Bürger"\n', "fetch.user_agent", "ASCII"),
        ('[fetch]\nuser_agent = "' + "x" * 501 + '"\n', "fetch.user_agent", "at most 500"),
        ("[defaults]\ndelay = inf\n", "defaults.delay", "from 0 to 3600"),
        ("[defaults]\nmax_sitemaps = 0\n", "defaults.max_sitemaps", "from 1 to 10000"),
        ('[defaults]\ntimezone = "Europe"\n', "defaults.timezone", "unknown time zone"),
        ('[defaults]\ntimezone = "' + "a" * 300 + '"\n', "defaults.timezone", "at most"),
    ],
)
def test_out_of_range_values_name_key_and_range(text: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text + BASE, path="conf/bad.toml")
    message = str(info.value)
    assert info.value.key == key
    assert message.startswith(f"conf/bad.toml: {key}: ") and expected in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("delay = nan", "source.s.delay", "finite"),
        ("delay = inf", "source.s.delay", "finite"),
        ("concurrency = 101", "source.s.concurrency", "from 1 to 100"),
        ("max_articles = 0", "source.s.max_articles", "from 1 to 1000000"),
        ("refresh_after = 1e300", "source.s.refresh_after", "from 0 to 31622400"),
        ("max_links_per_page = 1000001", "source.s.max_links_per_page", "from 1 to 1000000"),
        ("max_sitemaps = 10001", "source.s.max_sitemaps", "from 1 to 10000"),
        ("allow_private = 1", "source.s.allow_private", "true or false"),
        ('discover_feeds = "yes"', "source.s.discover_feeds", "true or false"),
        ("robots_sitemaps = 0", "source.s.robots_sitemaps", "true or false"),
        ('schedule = "every 99999999999999999999999d"', "source.s.schedule", "366 days"),
        ('recheck = ["1h", "1h"]', "source.s.recheck[1]", "not longer"),
        ('recheck = ["30s"]', "source.s.recheck[0]", "60s to 366d"),
        ('recheck = ["400d"]', "source.s.recheck[0]", "60s to 366d"),
        ('recheck = ["soon"]', "source.s.recheck[0]", "not a duration"),
        ("recheck = [3600]", "source.s.recheck[0]", "non-empty string"),
        ("recheck = 3600", "source.s.recheck", "list of duration strings"),
        ("recheck = [" + '"1h", ' * 51 + "]", "source.s.recheck", "at most 50"),
    ],
)
def test_source_values_are_bounded(line: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + line + "\n", path="c.toml")
    assert info.value.key == key
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a:99999/x", "port must be a number from 1 to 65535"),
        ("http://a:abc/x", "port must be a number from 1 to 65535"),
        ("http://a:0/x", "port must be a number from 1 to 65535"),
        ("http://[::1/x", "brackets"),
        ("http://[::zz]/x", "brackets"),
        ("http://a b.example/x", "not a host name"),
        ("http:///x", "absolute http(s) URL"),
        ("mailto:news@example.com", "absolute http(s) URL"),
        ("//news.example.com/x", "absolute http(s) URL"),
        ("https://news.example.com/\\u0007bell", "control character"),
        ("https://news.example.com/" + "a" * 4100, "at most 4096 characters"),
    ],
)
def test_urls_are_checked_whole(url: str, expected: str) -> None:
    text = f'[[source]]\nname = "s"\nfeeds = ["https://ok.example/", "{url}"]\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, path="c.toml")
    assert info.value.key == "source.s.feeds[1]"
    assert expected in str(info.value)
    assert len(str(info.value)) < 400  # an overlong value is clipped in the message


def test_good_urls_pass() -> None:
    urls = ["http://[::1]:8080/x", "https://Bücher.example/neu", "http://127.0.0.1:65535/"]
    text = "[[source]]\nname = 's'\nlistings = [" + ", ".join(f'"{u}"' for u in urls) + "]\n"
    assert parse_config(text).source("s").listings == tuple(urls)


def test_other_strings_are_bounded_and_one_line_in_errors() -> None:
    cases = {
        BASE + '[source.links]\nallow_domains = ["a.example/x"]\n': "allow_domains[0]",
        BASE + '[source.links]\npattern = "a{99999999999}"\n': "links.pattern",
        BASE + '[source.links]\nselector = "' + "a " * 600 + '"\n': "links.selector",
        BASE + '[source.rules]\nexclude = [".ok", "x\\ny"]\n': "rules.exclude[1]",
        BASE + '[source.rules]\ndate_format = "%d\\t%m"\n': "rules.date_format",
        '[[source]]\nname = "' + "n" * 101 + '"\nlistings = ["https://a.example/"]\n': "name",
        BASE + '"evil\\nkey" = 1\n': "'evil\\nkey'",
        "big = " + "9" * 5000 + "\n": None,
        "a = " + "[" * 5000 + "\n": None,
    }
    for text, key in cases.items():
        with pytest.raises(ConfigError) as info:
            parse_config(text, path="c.toml")
        message = str(info.value)
        assert len(message.splitlines()) == 1 and len(message) < 600, message
        if key:
            assert info.value.key is not None and info.value.key.endswith(key), message


def test_new_source_keys_default_and_load() -> None:
    source = parse_config(BASE).source("s")
    assert (source.allow_private, source.discover_feeds, source.robots_sitemaps) == (
        False,
        True,
        False,
    )
    assert (source.max_links_per_page, source.max_sitemaps) == (5000, 50)
    assert source.recheck == DEFAULT_RECHECK == (3600, 21600, 86400, 259200)
    assert Source(name="x").recheck == DEFAULT_RECHECK
    text = (
        '[defaults]\nallow_private = true\nrecheck = ["90s", "2h", "7d"]\nmax_sitemaps = 7\n'
        + BASE
        + "discover_feeds = false\nrobots_sitemaps = true\nmax_links_per_page = 10\n"
        + '[[source]]\nname = "t"\nfeeds = ["https://b.example/rss"]\nrecheck = []\n'
    )
    config = parse_config(text)
    s, t = config.source("s"), config.source("t")
    assert (s.allow_private, s.discover_feeds, s.robots_sitemaps) == (True, False, True)
    assert (s.max_links_per_page, s.max_sitemaps, s.recheck) == (10, 7, (90.0, 7200.0, 604800.0))
    assert (t.allow_private, t.discover_feeds, t.max_links_per_page) == (True, True, 5000)
    assert t.recheck == ()  # [] means never


def test_defaults_errors_name_the_defaults_table() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("[defaults]\nconcurrency = 0\n" + BASE)
    assert info.value.key == "defaults.concurrency"
    with pytest.raises(ConfigError) as info:
        parse_config("[defaults]\nname = 'x'\n" + BASE)
    assert info.value.key == "defaults.name"


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_config(path).source("s").listings == ("https://a.example/",)


def test_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, not a config file"


CLI_CASES = {
    "concurrency": "[fetch]\nconcurrency = 9223372036854775807\n" + BASE,
    "delay": BASE + "delay = inf\n",
    "retries": "[fetch]\nretries = 9223372036854775807\n" + BASE,
    "backoff_base": "[fetch]\nbackoff_base = 1e308\n" + BASE,
    "total_timeout": "[fetch]\ntotal_timeout = nan\n" + BASE,
    "listings[0]": '[[source]]\nname = "s"\nlistings = ["http://a:99999/x"]\n',
    "feeds[0]": '[[source]]\nname = "s"\nfeeds = ["http://[::1/x"]\n',
    "user_agent": '[fetch]\nuser_agent = "b\\u00e4d"\n' + BASE,
    "schedule": BASE + 'schedule = "every 99999999999999999999999d"\n',
}


@pytest.mark.parametrize("key", sorted(CLI_CASES))
def test_cli_gives_one_line_and_exit_2(tmp_path: Path, key: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(CLI_CASES[key], encoding="utf-8")
    done = run_cli("run", "--config", str(config), "--db", str(tmp_path / "n.db"))
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"Error: {config}: ") and key in line
    assert not (tmp_path / "n.db").exists()  # nothing was crawled or created


def test_cli_config_directory_is_one_line(tmp_path: Path) -> None:
    done = run_cli("run", "--config", str(tmp_path), "--db", str(tmp_path / "n.db"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"Error: {tmp_path}: is a directory, not a config file"]
