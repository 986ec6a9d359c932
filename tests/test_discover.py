"""Finding article links (with title and date hints) on listings, feeds and sitemaps."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from scraper.discover import (
    LinkRules,
    announced_feeds,
    looks_like_article,
    merge,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from scraper.discover.linkrules import non_article, path_family, title_strength
from scraper.errors import ExtractError
from scraper.models import ListingItem
from scraper.urls import normalize_url

SITE = "https://www.ledger.example"
RULES = LinkRules(domains=("ledger.example",), timezone="Europe/Berlin")
BERLIN = ZoneInfo("Europe/Berlin")

LISTING = """<!DOCTYPE html>
<html><head><title>News</title><link rel="next" href="/news/page/2/"></head>
<body>
<header class="site-header">
  <a href="/">The Ledger</a>
  <a href="/news/header-promo-for-the-big-weekend-guide/">
    Header promo for the big weekend guide</a>
</header>
<nav><ul>
  <li><a href="/politics/">Politics</a></li>
  <li><a href="/news/menu-link-that-looks-like-an-article/">
    Menu link that looks like an article</a></li>
</ul></nav>
<main>
  <article class="card">
    <header><h2><a
      href="/news/harbour-barrier-approved/?utm_source=homepage&amp;utm_medium=web#top">
      Harbour barrier approved after long fight</a></h2></header>
    <p>The board voted seven to two.</p>
    <time datetime="2026-01-14T09:30:00+01:00">Wednesday</time>
    <a href="/news/harbour-barrier-approved/">Read more</a>
  </article>
  <ul class="stories">
    <li><a href="/news/rail-timetable-overhaul/">Rail timetable overhaul brings more trains</a>
        <span class="date">13.Jan.2026</span></li>
    <li><a href="/news/2026/01/12/meteor-cluster/"><img src="/m.jpg" alt=""></a>
        <h3><a href="/news/2026/01/12/meteor-cluster/">Meteors</a></h3>
        <span class="date">12 January 2026, 21:40</span></li>
    <li><a href="https://ledger.example/news/rail-timetable-overhaul/?fbclid=xyz">
      Rail timetable overhaul, the full story</a></li>
    <li><a href="/article.php?id=48213">Council revises its winter budget</a></li>
  </ul>
  <p>
    <a href="/tag/harbour/">All stories about the harbour</a>
    <a href="/author/imogen-carrow/">More from Imogen Carrow here</a>
    <a href="/news/page/3/">Older news on page three</a>
    <a href="/search?q=harbour+barrier+news">Search for harbour barrier news</a>
    <a href="/static/annual-report-2025.pdf">Download the annual report now</a>
    <a href="https://elsewhere.example/news/foreign-story-about-ships/">
      Foreign story about ships</a>
    <a href="mailto:desk@ledger.example">Write to the news desk today</a>
    <a href="/news/short/">Short</a>
    <a href="/news/harbour-barrier-approved/#comments">Read 12 comments</a>
    <a href="/business/">Business news and more sections</a>
  </p>
</main>
<footer>
  <a href="/about/our-history-since-1894/">Our history since 1894 as a paper</a>
  <a href="/news/footer-link-that-looks-like-an-article/">
    Footer link that looks like an article</a>
</footer>
</body></html>
"""


def test_generic_listing_finds_articles_once_with_hints() -> None:
    listing = parse_listing(LISTING, f"{SITE}/news/", RULES)
    assert listing.url == f"{SITE}/news/"
    assert [item.url for item in listing.items] == [
        f"{SITE}/news/harbour-barrier-approved/",
        f"{SITE}/news/rail-timetable-overhaul/",
        f"{SITE}/news/2026/01/12/meteor-cluster/",
        "https://ledger.example/news/rail-timetable-overhaul/",
        f"{SITE}/article.php?id=48213",
    ]
    first, rail, meteor, _, council = listing.items
    assert first.title == "Harbour barrier approved after long fight"
    assert first.published == datetime(2026, 1, 14, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert rail.title == "Rail timetable overhaul brings more trains"
    assert rail.published == datetime(2026, 1, 13, tzinfo=BERLIN)
    # a one-word link counts in a heading; the date is anywhere in the item
    assert meteor.title == "Meteors"
    assert meteor.published == datetime(2026, 1, 12, 21, 40, tzinfo=BERLIN)
    assert council.title == "Council revises its winter budget" and council.published is None
    assert listing.next_url == f"{SITE}/news/page/2/"


def test_generic_listing_excludes_chrome_and_non_articles() -> None:
    urls = " ".join(item.url for item in parse_listing(LISTING, f"{SITE}/news/", RULES).items)
    for excluded in ("header-promo", "menu-link", "footer-link", "our-history", "/tag/",
                     "/author/", "/page/3/", "search", ".pdf", "elsewhere", "mailto",
                     "/short/", "/business/", "comments"):  # fmt: skip
        assert excluded not in urls


def test_duplicates_merge_hints_first_position_wins() -> None:
    html = """<main><ul>
      <li><a href="/news/ferry-adds-winter-sailings/?utm_campaign=x"><img src="f.jpg"></a>
          <a href="/news/ferry-adds-winter-sailings/">
            Ferry adds winter sailings to the island</a></li>
      <li><a href="/news/library-digitises-old-ledgers/">Library digitises old ledgers</a></li>
      <li><a href="/news/ferry-adds-winter-sailings/?gclid=1">Ferry adds sailings: what changes</a>
          <time datetime="2026-01-07">7 Jan</time></li>
    </ul></main>"""
    rules = LinkRules(domains=("ledger.example",), selector="main li a")
    items = parse_listing(html, f"{SITE}/news/", rules).items
    assert [i.url for i in items] == [
        f"{SITE}/news/ferry-adds-winter-sailings/",
        f"{SITE}/news/library-digitises-old-ledgers/",
    ]
    assert items[0].title == "Ferry adds winter sailings to the island"  # first title kept
    assert items[0].published == datetime(2026, 1, 7, tzinfo=UTC)  # filled by the later one


def test_selector_takes_links_in_matched_elements_and_skips_generic_rule() -> None:
    html = """<div class="teaser"><a href="/s/1">One</a></div>
      <div class="teaser"><span><a href="/s/2">Two</a></span></div>
      <a class="direct" href="/tag/x">Tagged</a>
      <div class="other"><a href="/news/not-selected-story-here/">Not selected story here</a></div>
      <div class="teaser"><a href="https://elsewhere.example/s/3">Off site</a></div>"""
    rules = LinkRules(domains=("ledger.example",), selector="div.teaser, a.direct")
    urls = [i.url for i in parse_listing(html, f"{SITE}/", rules).items]
    assert urls == [f"{SITE}/s/1", f"{SITE}/s/2", f"{SITE}/tag/x"]


def test_pattern_filters_further() -> None:
    rules = LinkRules(domains=("ledger.example",), pattern=r"/news/\w+-\w+")
    urls = [i.url for i in parse_listing(LISTING, f"{SITE}/news/", rules).items]
    assert urls == [
        f"{SITE}/news/harbour-barrier-approved/",
        f"{SITE}/news/rail-timetable-overhaul/",
        "https://ledger.example/news/rail-timetable-overhaul/",
    ]


@pytest.mark.parametrize(
    ("html", "next_selector", "expected"),
    [
        ('<a rel="next" href="?page=2">Older</a>', None, f"{SITE}/news/?page=2"),
        ('<a rel="nofollow next" href="/news/p/2?utm_source=x">More</a>', None, f"{SITE}/news/p/2"),
        ('<link rel="Next" href="/news/2/">', None, f"{SITE}/news/2/"),
        ('<div class="pager"><a href="/news/3/">Next</a></div>', "div.pager", f"{SITE}/news/3/"),
        (
            '<a class="more" href="/news/4/">More</a><a rel="next" href="/x">x</a>',
            "a.more",
            f"{SITE}/news/4/",
        ),
        ('<a rel="next" href="https://elsewhere.example/2">Next</a>', None, None),
        ('<a rel="next" href="/news/">Same page</a>', None, None),
        ('<a rel="next" href="javascript:more()">Next</a>', None, None),
        ("<p>no pagination</p>", None, None),
    ],
)
def test_next_url(html: str, next_selector: str | None, expected: str | None) -> None:
    rules = LinkRules(domains=("ledger.example",), next_selector=next_selector)
    assert parse_listing(html, f"{SITE}/news/", rules).next_url == expected


# The "Latest news" block of the model article page (seed): each title link is followed
# by its date as 09.Jan.2026; the block sits in a sidebar, not in <main>.
SEED_SIDEBAR = """<html><body>
<header><nav><a href="/en/">Home</a><a href="/en/analytics/">Analytics</a></nav></header>
<div class="content"><h1>Moscow and Beijing Conduct New Air-Defense Drills</h1>
  <p>In early December 2025, China and Russia conducted their third joint exercises.</p></div>
<div class="sidebar"><div class="latest-news-title">Latest news</div>
  <div class="latest-news-item">
    <a href="/en/news/the-use-of-the-oreshnik-missile-and-a-new-phase-of-escalation/">
      The Use of the “Oreshnik” Missile and a New Phase of Escalation Around Ukraine</a>
    <div class="date">09.Jan.2026</div></div>
  <div class="latest-news-item">
    <a href="/en/news/solidarity-deferred-croatia-and-romania/">
      Solidarity Deferred: Croatia and Romania’s Dangerous Retreat</a>
    <div class="date">08.Jan.2026</div></div>
  <div class="latest-news-item">
    <a href="/en/news/azerbaijans-eurasian-initiative/">
      Azerbaijan’s Eurasian Initiative: Ambitions, Challenges, and Doubts</a>
    <div class="date">07.Jan.2026</div></div>
</div>
<div class="flat">
  <a href="/en/news/the-great-rotation-personnel-reshuffles/">
    The Great Rotation: Personnel Reshuffles in Ukraine’s Leadership</a>
  <span>06.Jan.2026</span>
  <a href="/en/news/trans-caspian-fiber-optic-cable/">
    The Trans-Caspian Fiber Optic Cable: A Digital Milestone</a>
  <span>04.Jan.2026</span>
</div>
<div class="article-date">14 Jan 2026</div>
<footer><a href="/en/about-the-centre-and-its-team/">About the centre and its team</a></footer>
</body></html>"""


def test_seed_like_latest_news_dates_become_hints() -> None:
    rules = LinkRules(domains=("centre.example",), timezone="Europe/Berlin")
    url = "https://centre.example/en/news/moscow-and-beijing-conduct-new-air-defense-drills/"
    items = parse_listing(SEED_SIDEBAR, url, rules).items
    assert [(i.url.rsplit("/", 2)[-2], i.published) for i in items] == [
        ("the-use-of-the-oreshnik-missile-and-a-new-phase-of-escalation",
         datetime(2026, 1, 9, tzinfo=BERLIN)),
        ("solidarity-deferred-croatia-and-romania", datetime(2026, 1, 8, tzinfo=BERLIN)),
        ("azerbaijans-eurasian-initiative", datetime(2026, 1, 7, tzinfo=BERLIN)),
        ("the-great-rotation-personnel-reshuffles", datetime(2026, 1, 6, tzinfo=BERLIN)),
        ("trans-caspian-fiber-optic-cable", datetime(2026, 1, 4, tzinfo=BERLIN)),
    ]  # fmt: skip
    assert items[0].title == (
        "The Use of the “Oreshnik” Missile and a New Phase of Escalation Around Ukraine"
    )


# Short article URLs of several schemes in a seed-like "Latest news" block: no URL shape,
# so the headline, the date in each item and the repeated items decide.
SHORT_URLS = """<html><body>
<header><nav><a href="/">Home</a><a href="/business/">Business</a></nav></header>
<main><h1>Moscow and Beijing Conduct New Air-Defense Drills</h1>
  <p class="byline">By <a href="/people/imogen-carrow">Imogen Carrow Smith</a> · 09.Jan.2026</p>
  <p>In early December 2025, China and Russia conducted their third joint exercises.</p>
</main>
<div class="sidebar"><div class="latest-news-title">Latest news</div>
  <div class="latest-news-item"><a href="/news/drip">Drip irrigation saves valley farms</a>
    <div class="date">09.Jan.2026</div></div>
  <div class="latest-news-item"><a href="/article/7">Council approves the harbour budget</a>
    <div class="date">08.Jan.2026</div></div>
  <div class="latest-news-item"><a href="/story?id=12">Storm closes the coastal road</a>
    <div class="date">07.Jan.2026</div></div>
  <div class="latest-news-item"><a href="/a/slow.html">Slow trains return to the valley</a>
    <div class="date">06.Jan.2026</div></div>
  <div class="latest-news-item"><a href="/p/42">Museum reopens</a>
    <div class="date">05.Jan.2026</div></div>
  <div class="latest-news-item"><a href="/business/">More from Business</a>
    <div class="date">05.Jan.2026</div></div>
  <div class="latest-news-item"><a href="/science/">Science</a>
    <div class="date">04.Jan.2026</div></div>
  <div class="latest-news-item"><a href="/news/">Today's news in brief</a>
    <div class="date">04.Jan.2026</div></div>
</div>
</body></html>"""


def test_short_article_urls_found_by_headline_and_date() -> None:
    url = f"{SITE}/news/moscow-and-beijing-conduct-new-air-defense-drills/"
    items = parse_listing(SHORT_URLS, url, RULES).items
    assert [(i.url.removeprefix(SITE), i.title, i.published) for i in items] == [
        ("/news/drip", "Drip irrigation saves valley farms", datetime(2026, 1, 9, tzinfo=BERLIN)),
        ("/article/7", "Council approves the harbour budget",
         datetime(2026, 1, 8, tzinfo=BERLIN)),
        ("/story?id=12", "Storm closes the coastal road", datetime(2026, 1, 7, tzinfo=BERLIN)),
        ("/a/slow.html", "Slow trains return to the valley",
         datetime(2026, 1, 6, tzinfo=BERLIN)),
        # two words count with a date in an item of a repeated list
        ("/p/42", "Museum reopens", datetime(2026, 1, 5, tzinfo=BERLIN)),
    ]  # fmt: skip
    # not: the byline, "More from Business", "Science", "/news/" (the section of /news/drip)


# Undated lists: a repeated list of headlines sharing a path family is enough; sections,
# menus, pagination and "more" links in the main content are not.
UNDATED = """<html><body><main>
  <h2><a href="/news/">Latest news from the bay</a></h2>
  <ul class="stories">
    <li><a href="/news/drip">Drip irrigation saves valley farms</a></li>
    <li><a href="/news/rain">Rain returns after a dry month</a></li>
    <li><a href="/news/slow">Slow trains return to the valley</a></li>
    <li><a href="/news/">All news from the valley</a></li>
  </ul>
  <div class="row">
    <div class="card"><h3><a href="/p/41">Museum</a></h3><p>Doors open again.</p></div>
    <div class="card"><h3><a href="/p/42">Harbour</a></h3><p>Barrier approved.</p></div>
    <div class="card"><h3><a href="/p/43">Festival</a></h3><p>Tickets on sale.</p></div>
  </div>
  <ul class="sections">
    <li><a href="/business/">Business and the economy</a></li>
    <li><a href="/science/">Science and the planet</a></li>
    <li><a href="/culture/">Culture, arts and books</a></li>
  </ul>
  <ul class="topics">
    <li><a href="/section/world">World news</a></li>
    <li><a href="/section/local">Local news</a></li>
    <li><a href="/section/sport">Sport news</a></li>
  </ul>
  <p><a href="/sport/">Sport</a> <a href="/weather/">Weather</a> <a href="/opinion/">Opinion</a></p>
  <div class="pages"><a href="/news/?page=2">2</a> <a href="/news/?page=3">3</a>
    <a href="/news/?page=2">Next page of stories</a> <a href="/news/p/2">Older stories</a></div>
  <p><a href="/business/">More from Business</a> <a href="/">Back to the front page</a>
    <a href="/news/?sort=oldest">Sorted by the oldest first</a>
    <a href="/science/">See all science stories</a></p>
</main></body></html>"""


def test_undated_repeated_list_with_common_path_is_found() -> None:
    items = parse_listing(UNDATED, f"{SITE}/", RULES).items
    assert [(i.url.removeprefix(SITE), i.title, i.published) for i in items] == [
        ("/news/drip", "Drip irrigation saves valley farms", None),
        ("/news/rain", "Rain returns after a dry month", None),
        ("/news/slow", "Slow trains return to the valley", None),
        ("/p/41", "Museum", None),
        ("/p/42", "Harbour", None),
        ("/p/43", "Festival", None),
    ]


def test_one_short_url_needs_more_than_a_headline() -> None:
    lone = '<main><p>Also today: <a href="/news/drip">Drip irrigation saves farms</a></p></main>'
    assert parse_listing(lone, f"{SITE}/", RULES).items == ()
    undated_mixed = """<main><ul>
      <li><a href="/article/7">Council approves the harbour budget</a></li>
      <li><a href="/story?id=12">Storm closes the coastal road</a></li>
      <li><a href="/p/42">Museum reopens after the flood</a></li></ul></main>"""
    assert parse_listing(undated_mixed, f"{SITE}/", RULES).items == ()
    dated = lone.replace("</a>", "</a> <time>09.Jan.2026</time>")
    assert [i.url for i in parse_listing(dated, f"{SITE}/", RULES).items] == [f"{SITE}/news/drip"]


def test_a_date_counts_only_in_a_small_item() -> None:
    prose = " ".join(["The council met on Tuesday to discuss the harbour plan."] * 12)
    html = f"""<main><article><time>09.Jan.2026</time><p>{prose}</p>
      <p>{prose} See <a href="/news/drip">the drip irrigation story</a>.</p></article></main>"""
    assert parse_listing(html, f"{SITE}/", RULES).items == ()


def test_many_anchors_stay_fast() -> None:
    rows = "".join(
        f'<li><a href="/news/n{i}">Story number {i} of the day</a> <span>09.Jan.2026</span></li>'
        for i in range(1500)
    )
    items = parse_listing(f"<main><ul>{rows}</ul></main>", f"{SITE}/", RULES).items
    assert len(items) == 1500 and items[-1].published == datetime(2026, 1, 9, tzinfo=BERLIN)


def test_date_format_and_relative_dates_use_rules_and_now() -> None:
    html = """<main><ul>
      <li><a href="/news/first-story-of-the-day/">First story of the day</a> <i>2 hours ago</i></li>
      <li><a href="/news/second-story-of-the-day/">Second story of the day</a> <i>01/02/26</i></li>
    </ul></main>"""
    rules = LinkRules(domains=("ledger.example",), timezone="UTC", date_format="%m/%d/%y")
    now = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
    items = parse_listing(html, f"{SITE}/", rules, now=now).items
    assert items[0].published == datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
    assert items[1].published == datetime(2026, 1, 2, tzinfo=UTC)


def test_empty_domains_mean_the_page_host() -> None:
    html = '<main><a href="/news/a-story-on-this-host/">A story on this host</a></main>'
    rules = LinkRules(domains=())
    assert [i.url for i in parse_listing(html, f"{SITE}/", rules).items] == [
        f"{SITE}/news/a-story-on-this-host/"
    ]


def test_base_href_resolves_links() -> None:
    html = """<head><base href="https://ledger.example/stories/"></head>
      <main><a href="story-number-one-here">Story number one here</a></main>"""
    items = parse_listing(html, f"{SITE}/", RULES).items
    assert [i.url for i in items] == ["https://ledger.example/stories/story-number-one-here"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/news/harbour-barrier-approved/", True),
        ("https://x.example/harbour-barrier-approved", True),
        ("https://x.example/2026/01/14/harbour_barrier_vote.html", True),
        ("https://x.example/news/48213", True),
        ("https://x.example/a/b/story-48213", True),
        ("https://x.example/article.php?id=48213", True),
        (normalize_url("https://x.example/ru/ледокол-открыл-навигацию"), True),
        ("https://x.example/", False),
        ("https://x.example/news/", False),
        ("https://x.example/world/europe/", False),
        ("https://x.example/2026/", False),
        ("https://x.example/2026/01/14/vote", True),
        ("https://x.example/2026/01/", False),
        ("https://x.example/2026/01/14/", False),
        ("https://x.example/tag/harbour-barrier-vote/", False),
        ("https://x.example/category/local-news-today/", False),
        ("https://x.example/author/imogen-carrow-smith/", False),
        ("https://x.example/news/page/2/", False),
        ("https://x.example/search/harbour-barrier-vote", False),
        ("https://x.example/login-to-your-account", True),
        ("https://x.example/login/", False),
        ("https://x.example/feed/", False),
        ("https://x.example/files/annual-report-2025.pdf", False),
        ("https://x.example/img/harbour-barrier-at-dawn.jpg", False),
        ("https://x.example/about/our-editorial-standards/", False),
    ],
)  # fmt: skip
def test_looks_like_article(url: str, expected: bool) -> None:
    assert looks_like_article(url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/", True),
        ("https://x.example/index.html", True),
        ("https://x.example/?p=42", False),
        ("https://x.example/news?page=2", True),
        ("https://x.example/search-results?q=harbour", True),
        ("https://x.example/tag/harbour/", True),
        ("https://x.example/img/logo.svg", True),
        ("https://x.example/business/", False),
        ("https://x.example/news/drip", False),
        ("https://x.example/story?id=12", False),
    ],
)
def test_non_article(url: str, expected: bool) -> None:
    assert non_article(url) is expected


@pytest.mark.parametrize(
    ("url", "family"),
    [
        ("https://x.example/news/drip", "/news"),
        ("https://x.example/news/2026/01/drip/", "/news/2026/01"),
        ("https://x.example/story?id=12&x=1", "/story?id&x"),
        ("https://x.example/business/", None),
        ("https://x.example/", None),
    ],
)
def test_path_family(url: str, family: str | None) -> None:
    assert path_family(url) == family


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        ("Drip irrigation saves farms", 2),
        ("Museum reopens", 1),
        ("Business", 0),
        ("  ", 0),
        ("Read more", 0),
        ("Read 12 comments", 0),
        ("More from Business", 0),
        ("See all science stories", 0),
        ("Older stories", 0),
        ("Page 3", 0),
        ("东京湾新防波堤获批准", 0),
        ("東京湾の新しい防波堤が承認された", 2),
    ],
)
def test_title_strength(text: str, strength: int) -> None:
    assert title_strength(text) == strength


def test_link_rules_validate() -> None:
    with pytest.raises(ValueError, match="pattern"):
        LinkRules(domains=(), pattern="(unclosed")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        LinkRules(domains=(), timezone="Mars/Olympus")


# -- feeds ----------------------------------------------------------------------------------

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel><title>The Ledger</title><link>https://ledger.example/</link>
  <item><title>Harbour barrier approved &amp; funded</title>
    <link>https://ledger.example/news/harbour-barrier-approved/?utm_source=rss</link>
    <pubDate>Wed, 14 Jan 2026 09:30:00 +0100</pubDate></item>
  <item><title>Rail timetable</title>
    <guid isPermaLink="true">https://ledger.example/news/rail-timetable/</guid>
    <dc:date>2026-01-13T07:15:00+01:00</dc:date></item>
  <item><title>Not a permalink</title><guid isPermaLink="false">tag:ledger,2026:3</guid></item>
  <item><title>Via feedburner</title><link>https://feeds.example/~r/ledger/abc</link>
    <feedburner:origLink>https://ledger.example/news/meteors/</feedburner:origLink>
    <pubDate>Mon, 12 Jan 2026 20:40:00 -0000</pubDate></item>
  <item><title>Elsewhere</title><link>https://elsewhere.example/story</link></item>
  <item><title>Relative link</title><link>/news/relative/</link><pubDate>garbage</pubDate></item>
  <item><title>Duplicate</title><link>https://ledger.example/news/harbour-barrier-approved/</link></item>
</channel></rss>"""


def test_rss2() -> None:
    listing = parse_feed(RSS, "https://ledger.example/feed.xml", RULES)
    assert [(i.url, i.title, i.published) for i in listing.items] == [
        ("https://ledger.example/news/harbour-barrier-approved/",
         "Harbour barrier approved & funded", datetime(2026, 1, 14, 8, 30, tzinfo=UTC)),
        ("https://ledger.example/news/rail-timetable/", "Rail timetable",
         datetime(2026, 1, 13, 6, 15, tzinfo=UTC)),
        ("https://ledger.example/news/meteors/", "Via feedburner",
         datetime(2026, 1, 12, 20, 40, tzinfo=UTC)),
        ("https://ledger.example/news/relative/", "Relative link", None),
    ]  # fmt: skip
    assert listing.next_url is None


def test_rss1_rdf() -> None:
    data = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://ledger.example/"><title>Ledger</title></channel>
  <item rdf:about="https://ledger.example/news/one/">
    <title>One</title><link>https://ledger.example/news/one/</link>
    <dc:date>2026-01-10T08:00:00Z</dc:date></item>
  <item rdf:about="https://ledger.example/news/two/"><title>Two</title></item>
</rdf:RDF>"""
    items = parse_feed(data, "https://ledger.example/index.rdf", RULES).items
    assert [(i.url, i.title, i.published) for i in items] == [
        ("https://ledger.example/news/one/", "One", datetime(2026, 1, 10, 8, tzinfo=UTC)),
        ("https://ledger.example/news/two/", "Two", None),
    ]


def test_atom() -> None:
    data = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ledger.example/news/">
  <title>Ledger</title><updated>2026-01-15T00:00:00Z</updated>
  <entry><title type="html">Barrier &lt;em&gt;approved&lt;/em&gt;</title>
    <link rel="edit" href="https://ledger.example/api/1"/>
    <link rel="alternate" type="text/html" href="barrier-approved/"/>
    <published>2026-01-14T09:30:00+01:00</published>
    <updated>2026-01-15T11:05:00+01:00</updated></entry>
  <entry><title>Только обновлено</title><link href="https://ledger.example/ru/news-2/"/>
    <updated>2026-01-15T11:05:00+01:00</updated></entry>
  <entry><title>Naive date</title><link href="/news/naive/"/>
    <published>2026-01-09T10:00:00</published></entry>
</feed>""".encode()
    items = parse_feed(data, "https://ledger.example/atom.xml", RULES).items
    assert [(i.url, i.title, i.published) for i in items] == [
        ("https://ledger.example/news/barrier-approved/", "Barrier approved",
         datetime(2026, 1, 14, 8, 30, tzinfo=UTC)),
        ("https://ledger.example/ru/news-2/", "Только обновлено", None),  # updated is no hint
        ("https://ledger.example/news/naive/", "Naive date",
         datetime(2026, 1, 9, 10, tzinfo=BERLIN)),
    ]  # fmt: skip


def test_feed_tolerates_html_entities_and_bom() -> None:
    data = (
        b"\xef\xbb\xbf  <rss version='2.0'><channel><item><title>Caf&eacute;&nbsp;opens</title>"
        b"<link>https://ledger.example/news/cafe/</link></item></channel></rss>"
    )
    items = parse_feed(data, "https://ledger.example/feed", RULES).items
    assert [(i.url, i.title) for i in items] == [
        ("https://ledger.example/news/cafe/", "Café opens")
    ]


def test_feed_pattern_applies() -> None:
    rules = LinkRules(domains=("ledger.example",), pattern="rail")
    items = parse_feed(RSS, "https://ledger.example/feed.xml", rules).items
    assert [i.url for i in items] == ["https://ledger.example/news/rail-timetable/"]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss><channel><item><title>&lol2;</title></item></channel></rss>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&xxe;</title></item></channel></rss>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<rss><channel><item><title>Broken</title></channel></rss>", "not well-formed"),
        (b"<rss><channel><item><title>&bogus;</title></item></channel></rss>", "not well-formed"),
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"<html><body><p>Not a feed</p></body></html>", "not an RSS or Atom feed"),
        (b"\x1f\x8b\x08 not really gzip", "gzip"),
        (BOMB, "forbidden"),
        (EXTERNAL, "forbidden"),
        (b'<?xml version="1.0" encoding="klingon"?><rss/>', "feed"),
    ],
)
def test_bad_feeds_raise_extract_error_naming_the_url(data: bytes, message: str) -> None:
    with pytest.raises(ExtractError, match=message) as caught:
        parse_feed(data, "https://ledger.example/feed.xml", RULES)
    assert "https://ledger.example/feed.xml" in str(caught.value)


# -- sitemaps -------------------------------------------------------------------------------

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://ledger.example/</loc></url>
  <url><loc>https://ledger.example/news/</loc></url>
  <url><loc> https://ledger.example/news/harbour-barrier-approved/ </loc>
       <lastmod>2026-01-15T11:05:00+01:00</lastmod></url>
  <url><loc>https://ledger.example/news/48213</loc></url>
  <url><loc>https://ledger.example/tag/harbour-barrier-vote/</loc></url>
  <url><loc>https://elsewhere.example/news/foreign-story-here/</loc></url>
</urlset>"""


def test_sitemap_keeps_article_urls_without_lastmod_as_date() -> None:
    listing, children = parse_sitemap(SITEMAP, "https://ledger.example/sitemap.xml", RULES)
    assert children == ()
    assert listing.items == tuple(
        parse_sitemap(gzip.compress(SITEMAP), "https://ledger.example/s.xml.gz", RULES)[0].items
    )
    assert [(i.url, i.title, i.published) for i in listing.items] == [
        ("https://ledger.example/news/harbour-barrier-approved/", None, None),
        ("https://ledger.example/news/48213", None, None),
    ]


def test_gzipped_sitemap_of_concatenated_members_is_read_whole() -> None:
    half = SITEMAP.index(b"  <url><loc>https://ledger.example/news/48213")
    data = gzip.compress(SITEMAP[:half]) + gzip.compress(SITEMAP[half:])
    url = "https://ledger.example/s.xml.gz"
    assert parse_sitemap(data, url, RULES) == parse_sitemap(SITEMAP, url, RULES)


def _one_member_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(64)) + packer.flush()  # 64 MiB


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(_one_member_bomb, id="one-member-64MiB"),
        pytest.param(lambda: gzip.compress(bytes(1 << 20)) * 1024, id="1024-members-1GiB"),
    ],
)
def test_gzip_bomb_sitemap_is_refused_without_inflating_it(bomb: Callable[[], bytes]) -> None:
    data = bomb()
    assert len(data) < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ExtractError, match="larger than 50000000 bytes uncompressed") as caught:
            parse_sitemap(data, "https://ledger.example/bomb.xml.gz", RULES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "https://ledger.example/bomb.xml.gz" in str(caught.value)
    assert peak < 60_000_000  # about the 50 MB cap; never the whole bomb


def test_sitemap_index_lists_same_site_children() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://ledger.example/sitemap-news.xml</loc></sitemap>
  <sitemap><loc>/sitemap-2026-01.xml.gz</loc><lastmod>2026-01-15</lastmod></sitemap>
  <sitemap><loc>https://ledger.example/sitemap-news.xml</loc></sitemap>
  <sitemap><loc>https://tracker.example/sitemap.xml</loc></sitemap>
</sitemapindex>"""
    listing, children = parse_sitemap(data, "https://ledger.example/sitemap.xml", RULES)
    assert listing.items == ()
    assert children == (
        "https://ledger.example/sitemap-news.xml",
        "https://ledger.example/sitemap-2026-01.xml.gz",
    )


def test_google_news_sitemap_gives_hints_and_skips_shape_check() -> None:
    data = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://ledger.example/news/</loc>
    <news:news><news:publication><news:name>Ledger</news:name><news:language>en</news:language>
      </news:publication>
      <news:publication_date>2026-01-14T09:30:00+01:00</news:publication_date>
      <news:title>Harbour barrier approved</news:title></news:news></url>
  <url><loc>https://ledger.example/ru/ledokol/</loc>
    <news:news><news:publication_date>2026-01-09</news:publication_date>
      <news:title>Ледокол открыл навигацию</news:title></news:news></url>
</urlset>""".encode()
    listing, children = parse_sitemap(data, "https://ledger.example/news-sitemap.xml", RULES)
    assert children == ()
    assert [(i.url, i.title, i.published) for i in listing.items] == [
        ("https://ledger.example/news/", "Harbour barrier approved",
         datetime(2026, 1, 14, 8, 30, tzinfo=UTC)),
        ("https://ledger.example/ru/ledokol/", "Ледокол открыл навигацию",
         datetime(2026, 1, 9, tzinfo=BERLIN)),
    ]  # fmt: skip


def test_feed_given_as_sitemap_is_read_as_feed() -> None:
    listing, children = parse_sitemap(RSS, "https://ledger.example/feed.xml", RULES)
    assert children == () and len(listing.items) == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<urlset><url><loc>x</loc></urlset>", "not well-formed"),
        (b"<html><body>Sitemap</body></html>", "not a sitemap"),
        (gzip.compress(b"<urlset><url>"), "not well-formed"),
    ],
)
def test_bad_sitemaps_raise_extract_error(data: bytes, message: str) -> None:
    with pytest.raises(ExtractError, match=message) as caught:
        parse_sitemap(data, "https://ledger.example/sitemap.xml", RULES)
    assert "https://ledger.example/sitemap.xml" in str(caught.value)


# -- provenance of hints, announced feeds -----------------------------------------------------


def test_every_item_says_where_its_hints_came_from() -> None:
    news = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://ledger.example/news/</loc><news:news>
        <news:publication_date>2026-01-14T09:30:00+01:00</news:publication_date>
        <news:title>Harbour barrier approved</news:title></news:news></url>
      <url><loc>https://ledger.example/news/plain-sitemap-entry-here/</loc></url>
    </urlset>"""
    sitemap = parse_sitemap(news, "https://ledger.example/news.xml", RULES)[0].items
    assert [(i.title, i.origin) for i in sitemap] == [
        ("Harbour barrier approved", "news-sitemap"),
        (None, "sitemap"),
    ]
    assert {i.origin for i in parse_feed(RSS, "https://ledger.example/f.xml", RULES).items} == {
        "feed"
    }
    assert {i.origin for i in parse_sitemap(RSS, "https://ledger.example/s", RULES)[0].items} == {
        "feed"
    }
    assert {i.origin for i in parse_listing(LISTING, f"{SITE}/news/", RULES).items} == {"listing"}


def test_merged_hints_keep_each_ones_origin() -> None:
    url = "https://ledger.example/news/x"
    when = datetime(2026, 1, 14, tzinfo=UTC)
    items: dict[str, ListingItem] = {}
    merge(items, ListingItem(url, title="Teaser title"))
    merge(items, ListingItem(url, title="News title", published=when, origin="news-sitemap"))
    merged = items[url]
    assert (merged.title, merged.published) == ("Teaser title", when)
    assert merged.hint_origin("title") == "listing" == merged.origin
    assert merged.hint_origin("published") == "news-sitemap"
    # an item without hints takes the origin of the first hints it gets
    bare: dict[str, ListingItem] = {url: ListingItem(url, origin="sitemap")}
    merge(bare, ListingItem(url, title="Feed title", published=when, origin="feed"))
    assert bare[url].origin == "feed" and bare[url].published_origin is None


ANNOUNCING = """<html><head><base href="https://ledger.example/sub/">
<link rel="alternate" type="application/rss+xml" title="News" href="/feed.xml?utm_source=x">
<link rel="Alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">
<link rel="alternate" type="application/rss+xml" href="https://elsewhere.example/feed.xml">
<link rel="alternate" type="text/html" hreflang="de" href="/de/">
<link rel="stylesheet" type="application/rss+xml" href="/not-a-feed.xml">
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
</head><body><main><ul>
<li><a href="/news/one-story-of-the-day">One story of the day</a></li>
</ul></main></body></html>"""


def test_listing_reports_the_same_site_feeds_it_announces() -> None:
    expected = ("https://ledger.example/feed.xml", "https://ledger.example/sub/atom.xml")
    assert parse_listing(ANNOUNCING, f"{SITE}/sub/", RULES).feeds == expected
    assert announced_feeds(ANNOUNCING, f"{SITE}/sub/", RULES) == expected
    assert parse_listing(LISTING, f"{SITE}/news/", RULES).feeds == ()


# -- bounded work per page (issue 15) ----------------------------------------------------------


def _links_page(n: int) -> str:
    rows = "".join(
        f'<li><a href="/news/harbour-story-number-{i}">Headline number {i} about the harbour</a>'
        f" <span>0{1 + i % 9}.Jan.2026</span></li>"
        for i in range(n)
    )
    return f"<html><body><main><ul>{rows}</ul></main></body></html>"


def _url_sitemap(n: int, *, close: bool = True) -> bytes:
    urls = "".join(
        f"<url><loc>https://ledger.example/news/harbour-story-number-{i}</loc>"
        "<lastmod>2026-01-01</lastmod></url>"
        for i in range(n)
    )
    head = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    return (head + urls + ("</urlset>" if close else "")).encode()


def test_a_listing_of_100k_links_takes_the_cap_in_bounded_time() -> None:
    # before issue 15 this page took 15 s and 372 MiB (48 s in the report); only the
    # first 4 * max_links links are looked at now
    html = _links_page(100_000)
    rules = LinkRules(domains=("ledger.example",), max_links=1000)
    started = time.perf_counter()
    items = parse_listing(html, f"{SITE}/news/", rules).items
    assert time.perf_counter() - started < 5
    assert len(items) == 1000
    assert items[-1].url == f"{SITE}/news/harbour-story-number-999"


def test_a_selector_listing_stops_at_the_cap() -> None:
    rules = LinkRules(domains=("ledger.example",), selector="main li", max_links=7)
    items = parse_listing(_links_page(50), f"{SITE}/news/", rules).items
    assert [i.url for i in items] == [f"{SITE}/news/harbour-story-number-{i}" for i in range(7)]


def test_a_sitemap_of_100k_urls_is_read_only_up_to_the_cap() -> None:
    data = _url_sitemap(100_000)  # 10 MB; it took 6 s and 106 MiB more before issue 15
    url = "https://ledger.example/sitemap.xml"
    started = time.perf_counter()
    listing, _ = parse_sitemap(data, url, RULES)
    assert time.perf_counter() - started < 3
    assert len(listing.items) == 5000  # LinkRules.max_links by default
    tracemalloc.start()
    try:
        parse_sitemap(data, url, RULES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # what the 5000 items take, not the 100,000 entries


def test_reading_stops_at_the_cap_so_the_rest_is_never_parsed() -> None:
    # the document breaks 200 kB in, far past the first 30 entries (the parser reads 16 kB
    # at a time): with a cap of 30 that part is never read
    broken = _url_sitemap(2000, close=False) + b"<url><loc>&broken"
    rules = LinkRules(domains=("ledger.example",), max_links=30)
    assert len(parse_sitemap(broken, "https://ledger.example/s.xml", rules)[0].items) == 30
    with pytest.raises(ExtractError, match="not well-formed"):
        parse_sitemap(broken, "https://ledger.example/s.xml", RULES)
    items = "".join(f"<item><link>{SITE}/news/{i}</link></item>" for i in range(2000))
    feed = f"<rss><channel>{items}<item>&broken".encode()
    assert len(parse_feed(feed, f"{SITE}/feed.xml", rules).items) == 30


def test_sitemap_index_children_are_capped_too() -> None:
    children = "".join(
        f"<sitemap><loc>https://ledger.example/sitemap-{i}.xml</loc></sitemap>" for i in range(20)
    )
    data = f"<sitemapindex>{children}</sitemapindex>".encode()
    rules = LinkRules(domains=("ledger.example",), max_links=4)
    _, kept = parse_sitemap(data, "https://ledger.example/sitemap.xml", rules)
    assert kept == tuple(f"https://ledger.example/sitemap-{i}.xml" for i in range(4))
