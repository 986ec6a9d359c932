"""Config loading: valid files become dataclasses; bad ones name the file, key and expectation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scraper.config import load_config, parse_config
from scraper.errors import ConfigError
from scraper.schedules import Schedule

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


@pytest.mark.parametrize("text", ["every", "every 0s", "* * *", "61 * * * *", "hourly"])
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
        (BASE + "delay = -1\n", "source.s.delay", "at least 0"),
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
