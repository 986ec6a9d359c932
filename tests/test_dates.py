"""Publication dates: one-string parsing and weighing the signals of a whole page."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.extract.dates import FoundDate, find_published, parse_date

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
PLUS2 = timezone(timedelta(hours=2))


def parsed(text: str, **kwargs: Any) -> tuple[datetime, bool] | None:
    return parse_date(text, now=NOW, **kwargs)


def day(text: str, **kwargs: Any) -> str | None:
    result = parsed(text, **kwargs)
    return result[0].date().isoformat() if result else None


# -- parse_date: formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-03T15:47:42.389Z", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        ("2026-06-05T20:43:49+0000", datetime(2025 + 1, 6, 5, 20, 43, 49, tzinfo=UTC)),
        ("2025-06-05T12:36:40+02:00", datetime(2025, 6, 5, 12, 36, 40, tzinfo=PLUS2)),
        ("2025-02-02T19:07:46.0000000Z", datetime(2025, 2, 2, 19, 7, 46, tzinfo=UTC)),
        ("Fri, 03 May 2024 15:47:42 GMT", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        ("Fri, 03 May 2024 15:47:42 +0200", datetime(2024, 5, 3, 15, 47, 42, tzinfo=PLUS2)),
        ("Tue Sep  6 14:22:31 UTC 2022", datetime(2022, 9, 6, 14, 22, 31, tzinfo=UTC)),
        ("12 เม.ย. 2567 09:45 น.", datetime(2024, 4, 12, 9, 45, tzinfo=UTC)),
        ("14 Jan 2026 10:00 GMT+2", datetime(2026, 1, 14, 10, 0, tzinfo=PLUS2)),
        ("14 Jan 2026 10:00 +02:00", datetime(2026, 1, 14, 10, 0, tzinfo=PLUS2)),
        ("Jan 14, 2026 2:30 pm", datetime(2026, 1, 14, 14, 30, tzinfo=UTC)),
        ("12:20pm Jan 7, 2024", datetime(2024, 1, 7, 12, 20, tzinfo=UTC)),
        ("14.01.2026, 14:59 Uhr", datetime(2026, 1, 14, 14, 59, tzinfo=UTC)),
        ("Publiziert: 01.07.2023, 11:16", datetime(2023, 7, 1, 11, 16, tzinfo=UTC)),
        ("June 30, 2026 - 4.34pm", datetime(2026, 6, 30, 16, 34, tzinfo=UTC)),
        ("le 9 janvier 2026 à 14h30", datetime(2026, 1, 9, 14, 30, tzinfo=UTC)),
        ("2021年03月23日 10:30", datetime(2021, 3, 23, 10, 30, tzinfo=UTC)),
        ("2021年3月23日 10時30分", datetime(2021, 3, 23, 10, 30, tzinfo=UTC)),
        ("2025년 5월 15일 오후 3:20", datetime(2025, 5, 15, 15, 20, tzinfo=UTC)),
        ("2025.05.15 20:00", datetime(2025, 5, 15, 20, 0, tzinfo=UTC)),
        ("Jan 14th 2026, 10am", datetime(2026, 1, 14, 10, 0, tzinfo=UTC)),
        ("14:30 am 5. Januar 2026", datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),  # German "am"
        ("2026-01-14T10:00", datetime(2026, 1, 14, 10, 0, tzinfo=UTC)),
    ],
)
def test_parse_date_with_time_keeps_the_zone(text: str, expected: datetime) -> None:
    result = parsed(text)
    assert result == (expected, True)
    assert result[0].utcoffset() == expected.utcoffset()


def test_named_zones_give_their_offset() -> None:
    result = parsed("14 Jan 2026 10:00 CET")
    assert result is not None
    assert result[0].utcoffset() == timedelta(hours=1)
    assert parsed("Friday 3 May 2024 at 10:00 EST") == (
        datetime(2024, 5, 3, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
        True,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 Jan 2026", "2026-01-14"),  # the seed article's own date
        ("09.Jan.2026", "2026-01-09"),  # the seed's "Latest news" style
        ("09.01.2026", "2026-01-09"),
        ("06. 01. 2026", "2026-01-06"),
        ("January 9, 2026", "2026-01-09"),
        ("Aug. 28, 2024", "2024-08-28"),
        ("3rd of May 2024", "2024-05-03"),
        ("Thursday, 1st January 2026", "2026-01-01"),
        ("9. Januar 2026", "2026-01-09"),
        ("9. Jänner 2026", "2026-01-09"),
        ("9 janvier 2026", "2026-01-09"),
        ("1er février 2026", "2026-02-01"),
        ("9 de enero de 2026", "2026-01-09"),
        ("9 gennaio 2026", "2026-01-09"),
        ("9 de janeiro de 2026", "2026-01-09"),
        ("9 января 2026 г.", "2026-01-09"),
        ("9 січня 2026", "2026-01-09"),
        ("9 januari 2026", "2026-01-09"),  # Dutch and Swedish
        ("9 stycznia 2026", "2026-01-09"),
        ("9. januar 2026", "2026-01-09"),  # Danish / Norwegian
        ("torsdag 8 januari 2026", "2026-01-08"),
        ("9 Ocak 2026", "2026-01-09"),
        ("3 Mayıs 2024", "2024-05-03"),
        ("9. ledna 2026", "2026-01-09"),
        ("9 Februari 2026", "2026-02-09"),  # Indonesian
        ("2026. január 9.", "2026-01-09"),
        ("2021年03月23日", "2021-03-23"),
        ("2024/10/16", "2024-10-16"),
        ("20240503", "2024-05-03"),
        ("2026-Jan-14", "2026-01-14"),  # only dateutil reads this one
    ],
)
def test_parse_date_day_only(text: str, expected: str) -> None:
    result = parsed(text)
    assert result is not None
    assert result[0].date().isoformat() == expected
    assert result[1] is False
    assert result[0].tzinfo is UTC and result[0].hour == 0


def test_day_first_unless_impossible() -> None:
    assert day("01/09/2026") == "2026-09-01"
    assert day("13/01/2026") == "2026-01-13"
    assert day("01/13/2026") == "2026-01-13"  # month-first only because day-first is impossible


@pytest.mark.parametrize(
    "text", ["31.02.2026", "1989-12-31", "2028-01-01", "foo", "12", "May 2024", "Chapter 3"]
)
def test_rejects_impossible_dates_and_years_out_of_range(text: str) -> None:
    assert parsed(text) is None


def test_naive_values_take_the_given_zone() -> None:
    result = parsed("2026-01-14T10:00:00", tz=BERLIN)
    assert result is not None
    assert result[0].tzinfo is BERLIN and result[0].utcoffset() == timedelta(hours=1)
    summer = parsed("14 July 2025", tz=BERLIN)
    assert summer is not None and summer[0].utcoffset() == timedelta(hours=2)
    assert summer[0].hour == 0 and summer[1] is False


def test_date_format_is_tried_first() -> None:
    jan9 = datetime(2026, 1, 9, tzinfo=UTC)
    assert parsed("09.Jan.2026", date_format="%d.%b.%Y") == (jan9, False)
    assert parsed("05/03/2024 14:30", date_format="%m/%d/%Y %H:%M") == (
        datetime(2024, 5, 3, 14, 30, tzinfo=UTC),
        True,
    )
    # a format that does not fit falls back to the general reader
    assert day("14 Jan 2026", date_format="%Y-%m-%d") == "2026-01-14"


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("vor 3 Stunden", datetime(2026, 1, 15, 9, 0, tzinfo=UTC), True),
        ("vor einer Stunde", datetime(2026, 1, 15, 11, 0, tzinfo=UTC), True),
        ("3 hours ago", datetime(2026, 1, 15, 9, 0, tzinfo=UTC), True),
        ("hace 5 minutos", datetime(2026, 1, 15, 11, 55, tzinfo=UTC), True),
        ("3 ore fa", datetime(2026, 1, 15, 9, 0, tzinfo=UTC), True),
        ("3時間前", datetime(2026, 1, 15, 9, 0, tzinfo=UTC), True),
        ("il y a 2 jours", datetime(2026, 1, 13, tzinfo=UTC), False),
        ("2 дня назад", datetime(2026, 1, 13, tzinfo=UTC), False),
        ("yesterday", datetime(2026, 1, 14, tzinfo=UTC), False),
        ("gestern, 14:30", datetime(2026, 1, 14, 14, 30, tzinfo=UTC), True),
        ("hier", datetime(2026, 1, 14, tzinfo=UTC), False),
        ("Vandaag om 20:07", datetime(2026, 1, 15, 20, 7, tzinfo=UTC), True),
        ("昨日 10:30", datetime(2026, 1, 14, 10, 30, tzinfo=UTC), True),
    ],
)
def test_relative_dates_resolve_against_now(text: str, expected: datetime, has_time: bool) -> None:
    assert parsed(text) == (expected, has_time)


def test_relative_dates_follow_the_zone() -> None:
    late = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # already the 16th in Berlin
    result = parse_date("yesterday", tz=BERLIN, now=late)
    assert result is not None and result[0].date().isoformat() == "2026-01-15"


# -- find_published ------------------------------------------------------------------------


def page(body: str, head: str = "", lang: str = "en") -> LexborHTMLParser:
    return LexborHTMLParser(f'<html lang="{lang}"><head>{head}</head><body>{body}</body></html>')


def jsonld_of(tree: LexborHTMLParser) -> list[Any]:
    """The tiny local stand-in for the metadata reader: every ld+json script, decoded."""
    out: list[Any] = []
    for node in tree.css('script[type="application/ld+json"]'):
        value = json.loads(node.text())
        out.extend(value if isinstance(value, list) else [value])
    return out


def find(body: str, head: str = "", url: str | None = None, **kwargs: Any) -> FoundDate | None:
    tree = page(body, head, kwargs.pop("lang", "en"))
    return find_published(tree, url=url, jsonld=jsonld_of(tree), now=NOW, **kwargs)


def ld(obj: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


HEADLINE = "<h1>Council approves the new bridge budget</h1>"


def test_jsonld_article_wins_and_records_modified() -> None:
    head = ld(
        {
            "@type": "NewsArticle",
            "datePublished": "2025-06-05T12:36:40+02:00",
            "dateModified": "2025-06-06T09:00:00+02:00",
        }
    )
    found = find(f"<article>{HEADLINE}<p>Text.</p></article>", head)
    assert found == FoundDate(
        datetime(2025, 6, 5, 12, 36, 40, tzinfo=PLUS2),
        True,
        "json-ld:datePublished",
        datetime(2025, 6, 6, 9, 0, tzinfo=PLUS2),
    )
    assert found.value.utcoffset() == timedelta(hours=2)  # the zone is kept, not converted


def test_jsonld_graph_skips_images_breadcrumbs_and_organizations() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "ImageObject", "datePublished": "2019-01-01"},
            {"@type": "Organization", "foundingDate": "1990-01-01"},
            {"@type": "BreadcrumbList", "itemListElement": []},
            {"@type": "WebSite", "datePublished": "2015-05-05"},
            {"@type": "BlogPosting", "datePublished": "2024-11-05T13:11:53+02:00"},
        ],
    }
    found = find(HEADLINE, ld(graph))
    assert found is not None and found.value.date().isoformat() == "2024-11-05"


def test_jsonld_nested_main_entity() -> None:
    obj = {
        "@type": "WebPage",
        "mainEntity": {"@type": "ReportageNewsArticle", "datePublished": "2024-08-28T10:00:23Z"},
    }
    found = find(HEADLINE, ld(obj))
    assert found is not None and found.value == datetime(2024, 8, 28, 10, 0, 23, tzinfo=UTC)


def test_jsonld_prefers_the_object_of_this_page() -> None:
    url = "https://news.example/politics/bridge-budget"
    objects = [
        {"@type": "NewsArticle", "url": "https://news.example/x", "datePublished": "2024-01-02"},
        {"@type": "NewsArticle", "url": url, "datePublished": "2024-03-04"},
    ]
    found = find(HEADLINE, ld(objects), url=url + "?ref=rss")
    assert found is not None and found.value.date().isoformat() == "2024-03-04"


def test_jsonld_related_items_in_an_item_list_do_not_count() -> None:
    related = {
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "item": {"@type": "NewsArticle", "datePublished": "2023-02-02"}}
        ],
    }
    head = ld(related) + '<meta property="article:published_time" content="2024-05-06T08:00:00Z">'
    found = find(HEADLINE, head)
    assert found is not None and found.source == "meta:article:published_time"


def test_modified_stamps_are_never_published() -> None:
    head = ld({"@type": "NewsArticle", "dateModified": "2025-01-02T10:00:00Z"}) + (
        '<meta property="article:modified_time" content="2025-01-02T10:00:00Z">'
        '<meta property="og:updated_time" content="2025-01-02T10:00:00Z">'
    )
    body = f'<article>{HEADLINE}<p>Updated: <time datetime="2025-01-02">2 Jan</time></p></article>'
    found = find(body, head)
    assert found is None


@pytest.mark.parametrize(
    "attr",
    [
        'property="article:published_time"',
        'property="og:article:published_time"',
        'property="og:published_time"',
        'itemprop="datePublished"',
        'name="pubdate"',
        'name="publishdate"',
        'name="publish-date"',
        'name="date"',
        'name="DC.date.issued"',
        'name="dcterms.created"',
        'name="sailthru.date"',
        'name="parsely-pub-date"',
        'name="cXenseParse:recs:publishtime"',
        'name="citation_publication_date"',
    ],
)
def test_meta_names(attr: str) -> None:
    found = find(HEADLINE, f'<meta {attr} content="2024-04-22T06:00:00+02:00">')
    assert found is not None
    assert found.value == datetime(2024, 4, 22, 6, 0, tzinfo=PLUS2) and found.has_time
    assert found.source.startswith("meta:")


def test_json_ld_and_meta_disagree_the_one_with_support_wins() -> None:
    head = ld({"@type": "NewsArticle", "datePublished": "2024-08-05T19:49:50Z"}) + (
        '<meta property="article:published_time" content="2024-08-04T13:23:00Z">'
    )
    body = f'<article>{HEADLINE}<time datetime="2024-08-04T13:23:00Z">4 Aug 2024</time></article>'
    found = find(body, head, url="https://news.example/2024/08/04/bridge")
    assert found is not None and found.value.date().isoformat() == "2024-08-04"


def test_json_ld_beats_meta_when_nothing_else_decides() -> None:
    head = ld({"@type": "NewsArticle", "datePublished": "2024-08-05T19:49:50Z"}) + (
        '<meta property="article:published_time" content="2024-08-04T13:23:00Z">'
    )
    found = find(f"<article>{HEADLINE}<p>Text.</p></article>", head)
    assert found is not None and found.source == "json-ld:datePublished"
    assert found.value.date().isoformat() == "2024-08-05"


def test_date_created_is_weaker_than_date_published() -> None:
    obj = {"@type": "NewsArticle", "dateCreated": "2024-01-01", "datePublished": "2024-01-03"}
    found = find(HEADLINE, ld(obj))
    assert found is not None and (found.source, found.value.day) == ("json-ld:datePublished", 3)
    created = find(HEADLINE, ld({"@type": "Article", "dateCreated": "2024-01-01T08:00:00Z"}))
    assert created is not None and created.source == "json-ld:dateCreated"


def test_time_element_near_the_headline() -> None:
    body = (
        f"<article><header>{HEADLINE}"
        '<time datetime="2023-07-01T11:16:11+02:00">Publiziert: 01.07.2023, 11:16</time>'
        "</header><p>Text.</p></article>"
    )
    found = find(body)
    expected = datetime(2023, 7, 1, 11, 16, 11, tzinfo=PLUS2)
    assert found == FoundDate(expected, True, "time[datetime]")


@pytest.mark.parametrize(
    "container",
    [
        "<aside>{}</aside>",
        '<div class="related-articles">{}</div>',
        '<section id="comments">{}</section>',
        '<div class="sidebar"><ul><li>{}</li></ul></div>',
        '<div class="teaser"><a href="/x">{}</a></div>',
    ],
)
def test_dates_in_sidebars_teasers_and_comments_never_win(container: str) -> None:
    stray = '<time datetime="2022-02-02T10:00:00Z">2 Feb 2022</time>'
    own = '<time datetime="2024-02-24T11:42:23Z">24 Feb 2024</time>'
    body = f"{container.format(stray)}<article>{HEADLINE}<p>{own}</p></article>"
    found = find(body)
    assert found is not None and found.value.date().isoformat() == "2024-02-24"
    assert find(f"<article>{HEADLINE}<p>Text.</p></article>{container.format(stray)}") is None


@pytest.mark.parametrize(
    "label",
    ["Updated", "Aktualisiert am", "Mis à jour le", "Actualizado", "Aggiornato", "Обновлено"],
)
def test_updated_time_is_modification(label: str) -> None:
    body = (
        f"<article>{HEADLINE}"
        '<p>Published <time datetime="2024-04-22T21:04:00Z">22 Apr</time></p>'
        f'<p>{label} <time datetime="2024-04-25T21:05:51Z">25 Apr</time></p></article>'
    )
    found = find(body)
    assert found is not None
    assert found.value == datetime(2024, 4, 22, 21, 4, tzinfo=UTC)
    assert found.modified == datetime(2024, 4, 25, 21, 5, 51, tzinfo=UTC)
    only_updated = f'<p>{label} <time datetime="2024-04-25">x</time></p>'
    assert find(f"<article>{HEADLINE}{only_updated}</article>") is None


PROSE = "<p>" + "The council met late, and the budget passed with changes to the plan. " * 4
PROSE += "</p>"


@pytest.mark.parametrize("label", ["Updated:", "Last modified", "Aktualisiert am"])
def test_updated_dates_in_plain_text_are_never_published(label: str) -> None:
    assert find(f"<div>{HEADLINE}<p class='meta'>{label} 4 May 2021</p>{PROSE}</div>") is None


def test_only_the_words_before_a_date_label_it() -> None:
    line = "<p class='meta'>Published 2 May 2021, updated: 4 May 2021</p>"
    found = find(f"<div>{HEADLINE}{line}{PROSE}</div>")
    assert found is not None and found.value.date().isoformat() == "2021-05-02"


@pytest.mark.parametrize(
    "footer",
    ["<footer>Page generated 2021-05-04</footer>", "<div id='footer'>Built 2021-05-04</div>"],
)
def test_the_page_footer_is_not_a_dateline(footer: str) -> None:
    assert find(f"<div>{HEADLINE}{PROSE}</div>{footer}") is None
    # an article's own footer is
    found = find(f"<article>{HEADLINE}{PROSE}{footer}</article>")
    assert found is not None and found.value.date().isoformat() == "2021-05-04"


def test_a_date_mentioned_in_a_sentence_is_not_a_dateline() -> None:
    sentence = "<p>On 3 March 2020 the council voted to build the bridge, and work began soon.</p>"
    assert find(f"<div>{HEADLINE}{PROSE}{sentence}{PROSE}</div>") is None
    posted = "<p>Posted on 3 March 2020 by the editor of the town gazette, who writes weekly.</p>"
    found = find(f"<div>{HEADLINE}{posted}{PROSE}</div>")
    assert found is not None and found.value.date().isoformat() == "2020-03-03"


def test_a_column_of_dates_is_a_list_not_a_dateline() -> None:
    rows = "".join(f"<tr><td>20{y}-01-01</td><td>{y}</td></tr>" for y in range(10, 16))
    table = f"<table>{rows}</table>"
    assert find(f"<div>{HEADLINE}{PROSE}{table}</div>") is None
    byline = "<div class='byline'>By Ann Lee | 3 March 2020</div>"
    found = find(f"<div>{HEADLINE}{byline}{PROSE}{table}</div>")
    assert found is not None and found.value.date().isoformat() == "2020-03-03"


def test_a_date_in_the_pages_own_permalink_counts() -> None:
    posted = (
        "<span class='posted-on'>Posted on <a href='/2020/03/03/notes/' rel='bookmark'>"
        "<time class='entry-date published' datetime='2020-03-03T09:00:00+00:00'>"
        "March 3, 2020</time></a></span>"
    )
    body = f"<article>{HEADLINE}{posted}{PROSE}</article>"
    found = find(body, url="https://blog.example/2020/03/03/notes/")
    assert found is not None
    assert found.value == datetime(2020, 3, 3, 9, 0, tzinfo=UTC)
    assert found.source == "time[datetime]"
    # the same markup linking to another post is that post's date
    elsewhere = body.replace("/2020/03/03/notes/", "/2020/01/01/older/")
    found = find(elsewhere, url="https://blog.example/2020/03/03/notes/")
    assert found is not None and found.source == "url"


def test_asctime_in_running_text_is_read() -> None:
    found = find(f"<div>{HEADLINE}<i>Tue Sep  6 14:22:31 UTC 2022</i>{PROSE}</div>")
    assert found is not None
    assert found.value == datetime(2022, 9, 6, 14, 22, 31, tzinfo=UTC)


def test_an_entry_of_a_dated_news_list_is_not_the_dateline() -> None:
    news = (
        "<h2>News</h2><ul class='news'>"
        "<li><span class='date'>14 Sep 2023</span> Invited talk at the Workshop on African NLP "
        "in Kigali about who gets evaluated</li><li><span class='date'>Jun 2023</span> We "
        "received a three-year grant for the corpus</li></ul>"
    )
    assert find(f"<div>{HEADLINE}{PROSE}{news}</div>") is None
    meta = "<ul class='meta'><li>By Ann Lee</li><li>28.04.2023</li><li>3 min read</li></ul>"
    found = find(f"<div>{HEADLINE}{meta}{PROSE}</div>")
    assert found is not None and found.value.date().isoformat() == "2023-04-28"


def test_a_post_submitted_on_a_forum_is_dated() -> None:
    tagline = (
        "<p class='tagline'>submitted <time datetime='2024-03-05T14:22:10+00:00'>1 year ago"
        "</time> by someone</p>"
    )
    found = find(f"<div>{HEADLINE}{tagline}{PROSE}</div>")
    assert found is not None and found.value == datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)


def test_a_comment_right_under_the_headline_does_not_date_the_page() -> None:
    comment = (
        "<div class='comment-box'><span class='c-time'>on 14/05/2024 at 9:12 am</span>"
        "<p>This is wickedness.</p></div>"
    )
    assert find(f"<div>{HEADLINE}{PROSE}{comment}</div>") is None


@pytest.mark.parametrize("run", ["15 marzo – 28 luglio 2024", "Dal 15 marzo al 28 luglio 2024"])
def test_the_end_of_a_run_of_days_is_an_event_not_a_dateline(run: str) -> None:
    assert find(f"<div>{HEADLINE}<p class='date'>{run}</p>{PROSE}</div>") is None


def test_received_and_accepted_stamps_are_not_published() -> None:
    body = (
        f"<article>{HEADLINE}<p>Received: <time datetime='2024-01-02'>2 Jan 2024</time> "
        "Accepted: <time datetime='2024-03-12'>12 Mar 2024</time> "
        "Published: <time datetime='2024-04-01'>1 Apr 2024</time></p></article>"
    )
    found = find(body)
    assert found is not None and found.value.date().isoformat() == "2024-04-01"


def test_class_names_never_veto_a_dateline() -> None:
    dateline = '<p class="published-date__since">Published Aug 28, 2024</p>'
    found = find(f"<article>{HEADLINE}{dateline}</article>")
    assert found is not None and found.value.date().isoformat() == "2024-08-28"


def test_url_date_never_beats_metadata() -> None:
    head = '<meta property="article:published_time" content="2024-05-04T01:00:00+02:00">'
    found = find(HEADLINE, head, url="https://news.example/2024/05/03/story")
    assert found is not None and found.source == "meta:article:published_time"
    assert found.value.date().isoformat() == "2024-05-04"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/2024/05/03/story", "2024-05-03"),
        ("https://news.example/news/2024-05-03-story-title", "2024-05-03"),
        ("https://news.example/articles/20250114/k00/00m/030/335000c", "2025-01-14"),
        ("https://news.example/world/2024/feb/24/story", "2024-02-24"),
        ("https://news.example/news/article/A2025051516330004328", "2025-05-15"),
    ],
)
def test_url_date_is_a_last_resort(url: str, expected: str) -> None:
    found = find(f"<article>{HEADLINE}<p>No date here.</p></article>", url=url)
    assert found is not None
    assert found.value.date().isoformat() == expected
    assert (found.has_time, found.source) == (False, "url")


def test_url_id_digits_are_not_a_date() -> None:
    assert find(HEADLINE, url="https://news.example/story/3000000218734/title") is None


def test_future_metadata_is_a_placeholder() -> None:
    head = '<meta property="article:published_time" content="2026-12-31T00:00:00Z">'
    found = find(HEADLINE, head, url="https://news.example/2026/01/10/story")
    assert found is not None and (found.source, found.value.day) == ("url", 10)


def test_day_only_metadata_takes_the_time_of_the_same_day() -> None:
    head = '<meta name="date" content="2024-04-30">'
    body = f'<article>{HEADLINE}<time datetime="2024-04-30T16:58:00Z">30.04.2024</time></article>'
    found = find(body, head)
    assert found is not None
    assert (found.value, found.has_time) == (datetime(2024, 4, 30, 16, 58, tzinfo=UTC), True)
    assert found.source == "meta:date"


def test_day_only_stays_day_only() -> None:
    found = find(HEADLINE, '<meta name="date" content="2024-04-30">', tz=BERLIN)
    assert found is not None and found.has_time is False
    assert found.value == datetime(2024, 4, 30, tzinfo=BERLIN)


def test_naive_metadata_goes_through_tz() -> None:
    head = ld({"@type": "Article", "datePublished": "2024-04-25T19:30:00"})
    found = find(HEADLINE, head, tz=BERLIN)
    assert found is not None and found.value.utcoffset() == timedelta(hours=2)


SEED_LIST = [
    ("The Use of the “Oreshnik” Missile and a New Phase of Escalation", "09.Jan.2026"),
    ("Solidarity Deferred: Croatia and Romania’s Dangerous Retreat", "08.Jan.2026"),
    ("Azerbaijan’s Eurasian Initiative: Ambitions, Challenges, and Doubts", "07.Jan.2026"),
]


@pytest.mark.parametrize(
    ("wrapper", "item"),
    [
        ("<ul>{}</ul>", '<li><a href="/n/{n}">{title}</a><span>{date}</span></li>'),
        ("{}", '<div class="item"><h4><a href="/n/{n}">{title}</a></h4><div>{date}</div></div>'),
        ("{}", '<a href="/n/{n}"><h4>{title}</h4><time>{date}</time></a>'),
    ],
)
def test_seed_article_date_not_the_latest_news_list(wrapper: str, item: str) -> None:
    items = "".join(item.format(n=n, title=t, date=d) for n, (t, d) in enumerate(SEED_LIST))
    body = (
        "<h1>Moscow and Beijing Conduct New Air-Defense Drills</h1>"
        "<p>In early December 2025, China and Russia conducted their third joint exercises.</p>"
        "<p>It is worth recalling that Moscow and Beijing signed a partnership in 2022.</p>"
        f"<div><h3>Latest news</h3>{wrapper.format(items)}</div>"
        "<div>14 Jan 2026</div>"
    )
    found = find(body)
    assert found is not None
    assert (found.value, found.has_time, found.source) == (
        datetime(2026, 1, 14, tzinfo=UTC),
        False,
        "text",
    )


def test_text_dateline_beats_a_caption_date() -> None:
    body = (
        f"<article>{HEADLINE}<figure><figcaption>Fighting near the city, 24. April 2023"
        "</figcaption></figure><ul><li><strong>Datum</strong> 28.04.2023</li></ul></article>"
    )
    found = find(body)
    assert found is not None and found.value.date().isoformat() == "2023-04-28"


def test_available_until_is_not_a_publication_date() -> None:
    body = f"<article>{HEADLINE}<p>Video verfügbar bis 06.05.2024</p><p>22.04.2024</p></article>"
    found = find(body)
    assert found is not None and found.value.date().isoformat() == "2024-04-22"


def test_relative_dateline_at_the_headline_uses_now() -> None:
    body = f"<article>{HEADLINE}<time>vor 3 Stunden</time><p>Text.</p></article>"
    found = find(body)
    assert found is not None and found.value == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    sidebar = '<div class="teaser"><a href="/x"><time>vor 1 Stunde</time></a></div>'
    assert find(f"<article>{HEADLINE}<p>Text.</p></article>{sidebar}") is None


def test_breadcrumb_h1_falls_back_to_the_article() -> None:
    body = (
        '<main><article><nav><ol><li><a href="/">Home</a></li>'
        "<li><h1>Kühltürme von AKW gesprengt heute</h1></li></ol></nav>"
        '<header><time datetime="2025-10-25T12:10:35+02:00">25.10.2025</time></header>'
        "<p>Text.</p></article>"
        '<article class="card"><time datetime="2025-10-20T08:00:00Z">20.10.</time></article></main>'
    )
    found = find(body)
    assert found is not None and found.value == datetime(2025, 10, 25, 12, 10, 35, tzinfo=PLUS2)


def test_en_us_pages_read_slashes_month_first() -> None:
    body = f'<article>{HEADLINE}<p class="byline">01/09/2025</p></article>'
    us = find(body, lang="en-US")
    uk = find(body, lang="en-GB")
    assert us is not None and us.value.date().isoformat() == "2025-01-09"
    assert uk is not None and uk.value.date().isoformat() == "2025-09-01"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025年1月14日 21時17分", datetime(2025, 1, 14, 21, 17, tzinfo=UTC)),
        ("9 января 2026, 14:30", datetime(2026, 1, 9, 14, 30, tzinfo=UTC)),
        ("Publicado el 9 de enero de 2026", datetime(2026, 1, 9, tzinfo=UTC)),
    ],
)
def test_text_dates_in_other_scripts(text: str, expected: datetime) -> None:
    found = find(f'<article>{HEADLINE}<div class="date">{text}</div><p>Body.</p></article>')
    assert found is not None and found.value == expected


def test_page_without_any_date() -> None:
    assert find(f"<article>{HEADLINE}<p>Since 2020 the bridge has 4 lanes.</p></article>") is None


def test_disagreeing_sources_are_recorded_with_their_distance() -> None:
    head = ld({"@type": "NewsArticle", "datePublished": "2026-01-02T08:00:00+00:00"})
    found = find(f"<article>{HEADLINE}<p>Text.</p></article>", head, url=URL_JAN5)
    assert found is not None and found.value.date() == date(2026, 1, 2)
    assert found.disagreement == "json-ld:datePublished 2026-01-02 vs url 2026-01-05 (3 days)"


def test_agreeing_sources_record_no_disagreement() -> None:
    head = ld({"@type": "NewsArticle", "datePublished": "2026-01-05T08:00:00+00:00"})
    found = find(f"<article>{HEADLINE}<p>Text.</p></article>", head, url=URL_JAN5)
    assert found is not None and found.disagreement is None


URL_JAN5 = "https://news.example.com/2026/01/05/council-bridge-budget"
