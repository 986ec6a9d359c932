"""extract(): each step of the cascade on small hand-written pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scraper.extract import extract
from scraper.extract.metadata import parse_jsonld
from scraper.extract.title import TitleSignals, choose_title
from scraper.models import SiteRules

NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)

P1 = (
    "The council approved the new budget on Tuesday evening, after a debate that lasted "
    "more than four hours and ended with a narrow vote of seven to six."
)
P2 = (
    "Supporters said the plan finally funds the repair of the old bridge, while critics "
    "argued that the tax increase would hurt small businesses in the town centre."
)
P3 = (
    "The mayor, who voted in favour, promised a public meeting in March to explain how "
    "the money will be spent and which projects will come first."
)
ARTICLE_PARAGRAPHS = (P1, P2, P3)


def article_page(
    *,
    head: str = "",
    before: str = "",
    inside: str = "",
    after: str = "",
    h1: str = "Council approves budget after long debate",
) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    return (
        f"<!doctype html><html lang='en'><head><title>{h1} | Town Gazette</title>{head}</head>"
        f"<body><header class='site-header'><a href='/'>Town Gazette</a></header>"
        f"<main><article>{before}<h1>{h1}</h1>"
        f"<div class='article-body'>{paragraphs}{inside}</div>{after}</article></main>"
        "<footer><p>Copyright Town Gazette. All rights reserved, see our terms of use.</p>"
        "</footer></body></html>"
    )


def paragraphs(body: str) -> list[str]:
    return body.split("\n\n")


# ----------------------------------------------------------------------------- the seed page

LATEST = [
    ("The Use of the Oreshnik Missile and a New Phase of Escalation Around Ukraine", "09.Jan.2026"),
    ("Solidarity Deferred: Croatia and Romania's Dangerous Retreat", "08.Jan.2026"),
    ("Azerbaijan's Eurasian Initiative: Ambitions, Challenges, and Doubts", "07.Jan.2026"),
    ("The Great Rotation: Personnel Reshuffles in Ukraine's Leadership", "06.Jan.2026"),
]
SEED_PARAGRAPHS = (
    "In early December 2025, China and Russia conducted their third joint anti-missile "
    "exercises on Russian territory, signaling further consolidation of their military "
    "cooperation.",
    "Joint anti-air and anti-missile exercises are far from a routine measure. They symbolize "
    "deep technical and organizational integration, and a rehearsal for joint defense.",
    "The strengthening of Sino-Russian anti-missile coordination carries several potential "
    "consequences:",
    "Thus, Moscow and Beijing appear determined to deepen trust, refine real mechanisms of "
    "joint defense, and respond to intensifying Western defense initiatives.",
)
SEED_BULLETS = (
    "Reduced strategic vulnerability: joint missile defense is an insurance policy against "
    "unpredictable actions by third states.",
    "Increased geopolitical tension: these joint drills are perceived as a challenge to the "
    "West and may accelerate an arms race.",
    "A new format of multi-polar security: Moscow and Beijing signal that they intend to act "
    "as a collective balancing force.",
)


def seed_page() -> str:
    p = SEED_PARAGRAPHS
    bullets = "".join(
        f"<li><b>{b.split(':')[0]}:</b>{b.split(':', 1)[1]}</li>" for b in SEED_BULLETS
    )
    latest = "".join(
        f"<div class='item'><a href='/news/{i}'>{title}</a><div class='when'>{day}</div></div>"
        for i, (title, day) in enumerate(LATEST)
    )
    return f"""<!doctype html><html lang="en"><head>
    <title>Moscow and Beijing Conduct New Air-Defense Drills - Caucasus Watch</title>
    <meta property="og:site_name" content="Caucasus Watch">
    <meta property="og:title" content="Moscow and Beijing Conduct New Air-Defense Drills">
    </head><body>
    <div class="top"><ul class="menu"><li><a href="/">Home</a></li><li><a href="/n">News</a>
    </li><li><a href="/a">Analysis</a></li></ul></div>
    <div class="wrap"><div class="col-main">
      <h1>Moscow and Beijing Conduct New Air-Defense Drills</h1>
      <div class="txt">
        <p>{p[0]}</p><p>{p[1]}</p><p>{p[2]}</p><ul>{bullets}</ul><p>{p[3]}</p>
      </div>
    </div>
    <div class="col-side"><h3>Latest news</h3>{latest}</div></div>
    <div class="bottom">14 Jan 2026</div>
    </body></html>"""


def test_seed_page_body_keeps_article_and_bullets_but_not_latest_news() -> None:
    article = extract(seed_page(), "https://caucasuswatch.example/news/drills", now=NOW)
    for text in SEED_PARAGRAPHS:
        assert text in article.body
    for bullet in SEED_BULLETS:
        assert f"- {bullet}" in article.body
    for title, day in LATEST:
        assert title not in article.body
        assert day not in article.body
    assert "Latest news" not in article.body
    assert article.body.index(SEED_PARAGRAPHS[2]) < article.body.index(SEED_BULLETS[0])
    assert article.body.index(SEED_BULLETS[-1]) < article.body.index(SEED_PARAGRAPHS[3])
    assert article.title == "Moscow and Beijing Conduct New Air-Defense Drills"


def test_latest_list_inside_the_article_container_is_dropped() -> None:
    latest = "<h4>Latest news</h4>" + "".join(
        f"<div><a href='/n/{i}'>{title}</a><span>{day}</span></div>"
        for i, (title, day) in enumerate(LATEST)
    )
    article = extract(article_page(inside=latest), "https://gazette.example/a", now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)


# ----------------------------------------------------------------------------- body boilerplate

BOILERPLATE = {
    "nav": "<nav><a href='/a'>World</a> <a href='/b'>Politics</a> Navigation menu here</nav>",
    "share box": "<div class='share-buttons'>Share this article on Facebook or by email</div>",
    "cookie banner": "<div id='cookie-consent'>We use cookies to improve your experience.</div>",
    "figcaption": "<figure><img src='x.jpg'><figcaption>The old bridge at dawn. Photo: "
    "J. Smith</figcaption></figure>",
    "image credit": "<p class='image-credit'>Photo: Jane Doe / Agency Pictures Limited</p>",
    "comments": "<section class='comments'><p>Great article, I fully agree with the mayor on "
    "this one, thanks for writing!</p></section>",
    "related list": "<ul><li><a href='/x'>Bridge repairs delayed again</a></li><li><a "
    "href='/y'>Mayor faces critics at the town hall</a></li><li><a href='/z'>What the new tax "
    "means for you</a></li></ul>",
    "read more line": "<p>Read more: <a href='/older'>How the bridge was built in 1902 by the "
    "town engineers</a></p>",
    "newsletter prompt": "<div class='newsletter-signup'><h3>Get our newsletter</h3><p>Sign up "
    "for the morning briefing, delivered free every day.</p></div>",
    "advert": "<div class='ad-slot'>Advertisement</div><div class='ad'>Buy cheap flights "
    "today with our partner offers</div>",
    "ad label": "<div>Advertisement</div>",
    "byline only": "<div class='byline'>By Jane Doe, Senior Reporter</div>",
    "date stamp": "<p>Updated 14.01.2026, 10:42</p>",
    "script and style": "<script>var tracking = 'should not appear in text';</script><style>"
    ".x{color:red}</style><noscript>Enable JavaScript to see comments</noscript>",
    "form": "<form><label>Your email</label><input name='e'><button>Subscribe now</button></form>",
    "iframe and svg": "<iframe src='https://video.example'>Video frame text</iframe><svg>"
    "<text>Icon label text</text></svg>",
    "aside": "<aside><p>Most read: the ten best cafes in town, ranked by our readers.</p></aside>",
    "embedded tweet": "<blockquote class='twitter-tweet'><p>Big night at the council! "
    "#budget</p>— Someone (@someone)</blockquote>",
    "label of a dropped box": "<p>Read more</p><div><a href='/a'>Bridge repairs delayed "
    "again as costs rise for the town</a></div>",
    "heading of a dropped list": "<h3>Latest news</h3><ul><li><a href='/1'>First headline "
    "here</a> 09.Jan.2026</li><li><a href='/2'>Second headline here</a> 08.Jan.2026</li></ul>",
    "image caption paragraph": "<p><img src='b.jpg'><br><em>The bridge in 1910</em></p>",
    "copyright notice": "<p>© 2026 Town Gazette Media. All rights reserved.</p>",
    "affiliate note": "<div class='affiliate-disclosure'><p><em>This post may contain "
    "affiliate links; we may earn a commission.</em></p></div>",
    "customer reviews": "<div id='product-reviews'><h3>Customer Reviews</h3><p>Great pan, the "
    "seasoning needed a few rounds but it cooks eggs well now.</p></div>",
    "counter": "<div class='votes'>23</div><span>***</span><p>\u200c</p>",
    "hidden box": "<div class='hidden'><p>Loading the comments for this story, please wait "
    "a moment.</p></div>",
    "link block inside a teaser": "<a href='/x'><h2>Another story</h2><p>A teaser that "
    "describes another story on the site in one sentence.</p></a>",
}


@pytest.mark.parametrize("kind", sorted(BOILERPLATE))
def test_boilerplate_inside_article_is_removed(kind: str) -> None:
    snippet = BOILERPLATE[kind]
    article = extract(article_page(inside=snippet), "https://gazette.example/a", now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS), kind


@pytest.mark.parametrize("name", ["hidden-xs", "mobile-hide", "quick-add-hidden"])
def test_text_hidden_only_on_some_screens_is_kept(name: str) -> None:
    inside = f"<div class='{name}'><p>{P1} It stays.</p></div>"
    body = extract(article_page(inside=inside), None, now=NOW).body
    assert paragraphs(body)[-1] == f"{P1} It stays."


def test_section_headings_set_in_h1_are_kept_when_there_are_several() -> None:
    sections = "".join(f"<h1>Part {n}</h1><p>{p}</p>" for n, p in enumerate(ARTICLE_PARAGRAPHS))
    body = extract(article_page(inside=sections), None, now=NOW).body
    assert paragraphs(body)[3:] == [
        "Part 0",
        P1,
        "Part 1",
        P2,
        "Part 2",
        P3,
    ]
    # one stray <h1> after the text (a repeated headline, a caption) is not a section
    stray = "<h1>Photo: the council chamber during the vote</h1>"
    assert paragraphs(extract(article_page(inside=stray), None, now=NOW).body) == list(
        ARTICLE_PARAGRAPHS
    )


def test_class_less_comments_are_known_by_their_heading() -> None:
    comment = (
        "<div><div><strong>Gerd_W</strong><br><span>05.03.2024 18:12</span></div>"
        "<div><p>Endlich! Ich wohne seit 22 Jahren direkt an der Hauptstraße, und nachts kann "
        "ich kein Fenster öffnen, weil die Lastwagen so laut sind wie auf einer Autobahn.</p>"
        "</div></div>"
    )
    comments = f"<div><h3>Kommentare (30)</h3>{comment * 30}</div>"
    page = article_page().replace("</article>", f"</article>{comments}")
    assert paragraphs(extract(page, None, now=NOW).body) == list(ARTICLE_PARAGRAPHS)


# Parts of an article placed after its three paragraphs, and the blocks they must give.
KEPT = {
    "accordion question in a heading button": (
        "<h3 class='accordion-header'><button class='accordion-button'>How do I sign up?"
        "</button></h3><div class='accordion-body'><p>Download the app and pick a plan; it "
        "takes about two minutes.</p></div><button>Share</button>",
        ["How do I sign up?", "Download the app and pick a plan; it takes about two minutes."],
    ),
    "wiki heading with an edit link": (
        "<h2><span class='mw-headline' id='History'>History</span><span class='mw-editsection'>"
        "<span class='mw-editsection-bracket'>[</span><a href='/w?action=edit'>edit</a>"
        "<span class='mw-editsection-bracket'>]</span></span></h2>"
        "<p>The mill was built in 1832 for a corn merchant, and it worked until 1937.</p>",
        ["History", "The mill was built in 1832 for a corn merchant, and it worked until 1937."],
    ),
    "permalink heading and terms": (
        "<h2 id='usage'><a href='#usage'>Usage</a></h2><p>Run it once a day from cron.</p>"
        "<dl><dt id='opt-a'><a href='#opt-a'>--all</a></dt><dd>Fetch every source.</dd>"
        "<dt id='opt-q'><a href='#opt-q'>--quiet</a></dt><dd>Print nothing.</dd></dl>",
        [
            "Usage",
            "Run it once a day from cron.",
            "- --all\n- Fetch every source.\n- --quiet\n- Print nothing.",
        ],
    ),
    "data table": (
        "<table><thead><tr><th>County</th><th>2023 median</th><th>Change</th></tr></thead>"
        "<tbody><tr><th>Bell</th><td>$297,000</td><td>+2.6%</td></tr>"
        "<tr><th>Travis</th><td>$529,000</td><td>-6.4%</td></tr></tbody></table>",
        ["County | 2023 median | Change\nBell | $297,000 | +2.6%\nTravis | $529,000 | -6.4%"],
    ),
    "hidden elements": (
        "<h2>Knobli, Zink und Co.<span aria-hidden='true'>: </span>Erkältet?</h2>"
        "<p>Was hilft, wenn die Nase läuft, und was ist nur ein Mythos der Werbung?</p>"
        "<div aria-hidden='true'><p>Tmh Cxbtwqz yrf Rsqfavkbeltmz qeqhy hvdp Ahwbfg.</p></div>",
        [
            "Knobli, Zink und Co. Erkältet?",
            "Was hilft, wenn die Nase läuft, und was ist nur ein Mythos der Werbung?",
        ],
    ),
    "preformatted lines": (
        "<pre><code>project v1\n└── rand v0.7\n    └── libc v0.2\n\n</code></pre>",
        ["project v1\n└── rand v0.7\n    └── libc v0.2"],
    ),
    "syntax highlighting in code": (
        "<pre><code>log(1);\n<span class='hljs-comment'>// Prints: 1</span>\n</code></pre>",
        ["log(1);\n// Prints: 1"],
    ),
}


@pytest.mark.parametrize("kind", sorted(KEPT))
def test_article_parts_are_kept(kind: str) -> None:
    inside, expected = KEPT[kind]
    body = extract(article_page(inside=inside), None, now=NOW).body
    assert paragraphs(body)[3:] == expected


def test_header_footer_and_navigation_outside_article_are_not_body() -> None:
    article = extract(article_page(), "https://gazette.example/a", now=NOW)
    assert "Town Gazette" not in article.body
    assert "Copyright" not in article.body
    assert article.provenance["body"].startswith("generic:")


def test_subheadings_lists_and_quotes_kept_in_reading_order() -> None:
    inside = (
        "<h2>What happens next</h2><p>The plan goes to the regional office, which has sixty days "
        "to approve or reject the budget, officials said.</p>"
        "<ul><li>Bridge repair: two million</li><li>School roof: half a million</li></ul>"
        "<blockquote><p>We finally have a plan that the town can afford, and it is fair.</p>"
        "</blockquote><p>The meeting ended shortly before midnight, and the chamber emptied "
        "quickly.</p>"
    )
    body = extract(article_page(inside=inside), "https://gazette.example/a", now=NOW).body
    order = [
        P3,
        "What happens next",
        "- Bridge repair: two million\n- School roof: half a million",
        "We finally have a plan",
        "The meeting ended",
    ]
    positions = [body.index(piece) for piece in order]
    assert positions == sorted(positions)


def test_whitespace_collapsed_and_paragraphs_separated_by_one_blank_line() -> None:
    inside = "<p>  A   spaced\n\n   out <b>para</b>graph that is long enough to count here.  </p>"
    body = extract(article_page(inside=inside), "https://gazette.example/a", now=NOW).body
    assert "A spaced out paragraph that is long enough to count here." in paragraphs(body)
    assert "\n\n\n" not in body


def test_br_line_breaks_do_not_glue_words() -> None:
    inside = "<p>First line of the statement<br>second line of the statement, quoted.</p>"
    body = extract(article_page(inside=inside), "https://gazette.example/a", now=NOW).body
    assert "First line of the statement second line of the statement, quoted." in body


def test_lead_above_the_body_is_included_first() -> None:
    lead = (
        "<p class='article-lead'>The town will spend more on roads and less on parks next year, "
        "after a close vote.</p>"
    )
    page = article_page(before=lead).replace("</h1>", "</h1>" + lead, 1).replace(lead, "", 1)
    body = extract(page, "https://gazette.example/a", now=NOW).body
    assert paragraphs(body)[0].startswith("The town will spend more on roads")
    assert paragraphs(body)[1:] == list(ARTICLE_PARAGRAPHS)


def test_article_split_into_chunks_is_joined() -> None:
    chunks = "".join(
        f"<div class='chunk'><div class='text'><p>{p}</p><p>{p} Again, said the clerk.</p></div>"
        "</div><div class='ad-wrapper'>Advertisement</div>"
        for p in ARTICLE_PARAGRAPHS
    )
    page = (
        "<html><head><title>Budget | Gazette</title></head><body><article><h1>Budget</h1>"
        f"<div class='chunks'>{chunks}</div></article></body></html>"
    )
    body = extract(page, "https://gazette.example/a", now=NOW).body
    for p in ARTICLE_PARAGRAPHS:
        assert p in body
    assert "Advertisement" not in body


def test_second_article_below_the_main_one_is_left_out() -> None:
    other = "".join(
        f"<p>Other story paragraph {i}: the football club won again on Saturday, with three "
        "goals in the second half, and the fans celebrated long into the night.</p>"
        for i in range(6)
    )
    page = article_page(
        head="<meta property='og:title' content='Council approves budget after long debate'>",
        after="",
    ).replace(
        "</main>",
        f"<article class='next'><h1>Club wins again</h1><div class='article-body'>{other}</div>"
        "</article></main>",
    )
    body = extract(page, "https://gazette.example/a", now=NOW).body
    assert paragraphs(body) == list(ARTICLE_PARAGRAPHS)


def test_body_from_jsonld_when_markup_holds_only_a_teaser() -> None:
    full = " ".join([P1, P2, P3, P1, P2, P3])
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Budget", '
        f'"articleBody": "{full}"}}</script>'
    )
    page = (
        f"<html><head>{head}</head><body><article><h1>Budget</h1><p>{P1}</p>"
        "<div class='paywall'>Subscribe to read more</div></article></body></html>"
    )
    article = extract(page, "https://gazette.example/a", now=NOW)
    assert article.provenance["body"] == "json-ld:articleBody"
    assert P3 in article.body


def test_blocks_missing_from_a_complete_jsonld_article_body_are_dropped() -> None:
    promo = "<p>Support local journalism: subscribe today and get the first month free.</p>"
    ld = " ".join(ARTICLE_PARAGRAPHS)
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        f'"articleBody": "{ld}"}}</script>'
    )
    article = extract(article_page(head=head, inside=promo), None, now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)


def test_lead_found_by_the_meta_description() -> None:
    lead_text = "Seven votes to six: the town will repair the bridge and raise the local tax."
    head = f"<meta name='description' content='{lead_text}'>"
    page = article_page(head=head).replace(
        "</h1>", f"</h1><div class='x1'><span>Town.</span> <span>{lead_text}</span></div>"
    )
    body = extract(page, None, now=NOW).body
    assert paragraphs(body)[0] == f"Town. {lead_text}"
    assert paragraphs(body)[1:] == list(ARTICLE_PARAGRAPHS)


def test_pathologically_deep_nesting_does_not_break_the_walk() -> None:
    deep = "<div>" + "<b>" * 3000 + "deeply nested words" + "</b>" * 3000 + "</div>"
    article = extract(article_page(inside=deep), None, now=NOW)
    assert "deeply nested words" in article.body
    assert P1 in article.body


NAV_COLUMN = "".join(f"<a href='/s{i}'>Section {i}</a><br>" for i in range(12))


@pytest.mark.parametrize(
    "layout",
    [  # text with no <p>: runs split by <br><br>, in an old table layout or right in <body>
        "<table><tr><td>{nav}</td><td><font size=2>{text}</font></td></tr></table>",
        "{text}<hr>{nav}",
        "<div id='nav'>{nav}</div><center>{text}</center>",
    ],
)
def test_text_without_paragraph_tags_is_found(layout: str) -> None:
    text = "<br><br>".join(ARTICLE_PARAGRAPHS)
    page = f"<html><body>{layout.format(nav=NAV_COLUMN, text=text)}</body></html>"
    article = extract(page, None, now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)


def test_links_to_other_pages_in_a_term_list_drop_the_list() -> None:
    terms = (
        "<dl><dt id='opt-a'><a href='/a'>--all</a></dt><dt id='opt-q'><a href='/q'>--quiet</a>"
        "</dt></dl>"
    )
    assert "--all" not in extract(article_page(inside=terms), None, now=NOW).body


def test_page_of_short_lines_falls_back_to_its_text() -> None:
    page = (
        "<html><body><div class='hd'><a href='/'>Home</a></div>"
        "<div><div>Author: Ann Lee</div><div>Macro XSLTCALL</div></div>"
        "</body></html>"
    )
    article = extract(page, None, now=NOW)
    assert paragraphs(article.body) == ["Author: Ann Lee", "Macro XSLTCALL"]
    assert article.provenance["body"] == "generic:page"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Media contact: Dana Whitaker, +1 559-555-0192", True),
        ("Stand: 14.03.2024, 10:05 Uhr", False),
        ("Updated 10:05 GMT", False),
        ("声明：凡注明来源的所有作品，版权均属本网所有，未经书面授权不得转载。", False),
    ],
)
def test_short_stamps_and_notices_in_the_body(line: str, kept: bool) -> None:
    body = extract(article_page(inside=f"<p>{line}</p>"), None, now=NOW).body
    assert (line in paragraphs(body)) is kept


def test_paragraphs_set_as_spans_in_divs_are_found() -> None:
    blocks = "".join(
        f"<div class='text_editor_paragraph'><div class='public-DraftStyleDefault-block'>"
        f"<span data-text='true'>{p}</span></div></div>"
        for p in ARTICLE_PARAGRAPHS
    )
    talkbacks = "".join(
        f"<li><div class='tbTitle'>Reader {i}</div><div class='tbText'>Finally some good news "
        f"from the north, after so many years of watching the shore recede ({i}).</div></li>"
        for i in range(3)
    )
    page = (
        "<html><body><article><h1>Lake level rises</h1>"
        f"<div class='ArticleBodyComponent'>{blocks}</div></article>"
        f"<ol class='talkbacksList'>{talkbacks}</ol></body></html>"
    )
    assert paragraphs(extract(page, None, now=NOW).body) == list(ARTICLE_PARAGRAPHS)


def test_a_page_wrapper_named_like_a_sidebar_buries_nothing() -> None:
    page = article_page().replace("<main>", "<main class='layout-with-sidebar'>")
    assert paragraphs(extract(page, None, now=NOW).body) == list(ARTICLE_PARAGRAPHS)
    # nor when the headline sits outside it
    paras = "".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    page = (
        "<html><body><header><h1>Council approves budget</h1></header>"
        f"<div class='content-with-sidebar'><div class='story'>{paras}</div></div>"
        "<div class='teaser'><p>Another story, told at length in one long sentence here.</p>"
        "</div></body></html>"
    )
    assert paragraphs(extract(page, None, now=NOW).body) == list(ARTICLE_PARAGRAPHS)


def test_a_page_written_in_list_items_is_found() -> None:
    items = "".join(f"<li>{p}</li>" for p in ARTICLE_PARAGRAPHS)
    menu = "".join(
        f"<li><a href='/docs/{i}'>Release notes for version {i}</a></li>" for i in range(9)
    )
    page = (
        f"<html><body><aside><ul>{menu}</ul></aside><main><h1>Version 5.4</h1>"
        f"<p>Released in February.</p><h2>Changes</h2><ul>{items}</ul>"
        "<div class='admonition'><p>Looking for an older version? See the release archive.</p>"
        "</div></main></body></html>"
    )
    body = extract(page, None, now=NOW).body
    assert [f"- {p}" for p in ARTICLE_PARAGRAPHS] == body.split("\n\n")[2].split("\n")


def test_wordpress_taxonomy_classes_are_not_boilerplate() -> None:
    post = "post-12 post type-post status-publish hentry category-newsletter tag-social-media"
    paras = "".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    page = (
        f"<html><body><div id='page'><article class='{post}'><h1>Budget passed</h1>{paras}"
        "</article><div class='comments-area'><p>A reader comment with a long sentence of "
        "its own.</p></div></div></body></html>"
    )
    article = extract(page, None, now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)
    assert article.provenance["body"] == "generic:article.post-12"  # not its wrapper


def test_page_without_content_records_an_error() -> None:
    article = extract("<html><body><nav><a href='/'>Home</a></nav></body></html>", None, now=NOW)
    assert article.body == ""
    assert article.errors["body"] == "no main content found"
    assert article.errors["title"] == "no title found"


# ----------------------------------------------------------------------------- title


@pytest.mark.parametrize(
    ("signals", "expected", "source"),
    [
        (
            TitleSignals(title_tag="Budget approved | Town Gazette", site_names=("Town Gazette",)),
            "Budget approved",
            "title-tag",
        ),
        (
            TitleSignals(
                title_tag="Budget approved - Politics - Town Gazette", site_names=("Town Gazette",)
            ),
            "Budget approved",
            "title-tag",
        ),
        (
            TitleSignals(title_tag="Town Gazette: Budget approved", site_names=("Town Gazette",)),
            "Budget approved",
            "title-tag",
        ),
        (
            TitleSignals(
                og="Budget approved – gazette.example", site_names=("www.gazette.example",)
            ),
            "Budget approved",
            "og:title",
        ),
        (
            TitleSignals(og="Budget approved | Gazette | 14.01.2026", site_names=("Gazette",)),
            "Budget approved",
            "og:title",
        ),
        (
            TitleSignals(og="Budget approved - Politics", h1="Budget approved"),
            "Budget approved",
            "og:title",
        ),
        (
            TitleSignals(og="Town Gazette", h1="Budget approved", site_names=("Town Gazette",)),
            "Budget approved",
            "h1",
        ),
        (  # a hosted blog: its name is the subdomain, and its <h1>
            TitleSignals(
                h1="Island Notebook",
                title_tag="Island Notebook: The day the ferry didn't come",
                site_names=("islandnotebook.blogspot.com",),
            ),
            "The day the ferry didn't come",
            "title-tag",
        ),
        (
            TitleSignals(jsonld="Budget: the vote", twitter="Budget (tw)", h1="Budget h1"),
            "Budget: the vote",
            "json-ld:headline",
        ),
        (
            TitleSignals(h1="Inflation: what it means for you", title_tag="x"),
            "Inflation: what it means for you",
            "h1",
        ),
    ],
)
def test_title_signals(signals: TitleSignals, expected: str, source: str) -> None:
    assert choose_title(signals) == (expected, source)


def test_title_from_page_prefers_og_title_and_strips_site() -> None:
    head = (
        "<meta property='og:site_name' content='Town Gazette'>"
        "<meta property='og:title' content='Budget approved after debate | Town Gazette'>"
    )
    article = extract(article_page(head=head), "https://gazette.example/a", now=NOW)
    assert article.title == "Budget approved after debate"
    assert article.provenance["title"] == "og:title"


def test_title_falls_back_to_h1_near_the_body_then_title_tag() -> None:
    page = article_page().replace(
        "<header class='site-header'>", "<header class='site-header'><h1>Town Gazette</h1>"
    )
    article = extract(page, "https://gazette.example/a", now=NOW)
    assert article.title == "Council approves budget after long debate"
    assert article.provenance["title"] == "h1"
    no_h1 = article_page().replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    article = extract(no_h1, "https://gazette.example/a", now=NOW)
    assert article.title == "Council approves budget after long debate"
    assert article.provenance["title"] == "title-tag"


def test_jsonld_headline_entities_are_decoded() -> None:
    head = (
        '<script type="application/ld+json">'
        '{"@type":"NewsArticle","headline":"R&uuml;ckbau &amp; mehr"}</script>'
    )
    article = extract(article_page(head=head), "https://gazette.example/a", now=NOW)
    assert article.title == "Rückbau & mehr"


# ----------------------------------------------------------------------------- url and metadata


@pytest.mark.parametrize(
    ("head", "url", "expected", "source"),
    [
        (
            "<link rel='canonical' href='/news/budget'>",
            "https://www.gazette.example/a?utm=1",
            "https://www.gazette.example/news/budget",
            "canonical",
        ),
        (
            "<link rel='canonical' href='https://m.gazette.example/b'>",
            "https://www.gazette.example/b",
            "https://m.gazette.example/b",
            "canonical",
        ),
        (
            "<link rel='canonical' href='https://other.example/b'>",
            "https://gazette.example/b",
            "https://gazette.example/b",
            "given",
        ),
        (
            "<meta property='og:url' content='https://gazette.example/c'>",
            "https://gazette.example/c?x",
            "https://gazette.example/c",
            "og:url",
        ),
        (
            "<link rel='canonical' href='https://news.bbc.co.uk/x'>",
            "https://www.bbc.co.uk/y",
            "https://news.bbc.co.uk/x",
            "canonical",
        ),
        (
            "<link rel='canonical' href='https://evil.co.uk/x'>",
            "https://www.bbc.co.uk/y",
            "https://www.bbc.co.uk/y",
            "given",
        ),
        ("", None, None, "given"),
    ],
)
def test_canonical_url(head: str, url: str | None, expected: str | None, source: str) -> None:
    article = extract(article_page(head=head), url, now=NOW)
    assert article.url == expected
    assert article.provenance["url"] == source


def test_metadata_fields() -> None:
    head = (
        "<meta name='description' content='The council approved the budget.'>"
        "<meta property='og:image' content='/img/bridge.jpg'>"
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
        '{"@type":"WebSite","name":"Gazette"},'
        '{"@type":"NewsArticle","headline":"Budget","datePublished":"2026-01-09T08:30:00+01:00",'
        '"dateModified":"2026-01-10T09:00:00+01:00",'
        '"author":[{"@type":"Person","name":"Jane Doe"},{"@type":"Person","name":"Max Roe"}]}]}'
        "</script>"
    )
    article = extract(article_page(head=head), "https://gazette.example/news/a", now=NOW)
    assert article.authors == ("Jane Doe", "Max Roe")
    assert article.description == "The council approved the budget."
    assert article.image == "https://gazette.example/img/bridge.jpg"
    assert article.language == "en"
    assert article.published is not None
    assert article.published.isoformat() == "2026-01-09T08:30:00+01:00"
    assert article.date_precision == "datetime"
    assert article.provenance["published"].startswith("json-ld")


def test_language_from_header_and_og_locale() -> None:
    page = article_page().replace("<html lang='en'>", "<html>")
    article = extract(page, None, headers={"Content-Language": "de-AT"}, now=NOW)
    assert article.language == "de-AT"
    page = page.replace("<head>", "<head><meta property='og:locale' content='fr_FR'>")
    assert extract(page, None, now=NOW).language == "fr-FR"


def test_authors_from_meta_and_rel_author() -> None:
    meta = extract(
        article_page(head="<meta name='author' content='Jane Doe, Max Roe'>"), None, now=NOW
    )
    assert meta.authors == ("Jane Doe", "Max Roe")
    rel = article_page(inside="<a rel='author' href='/jane'>Jane Doe</a>")
    assert extract(rel, None, now=NOW).authors == ("Jane Doe",)
    byline = article_page(
        before="<div class='byline'>By <span itemprop='author' itemscope><a href='/max'>"
        "<span itemprop='name'>Max Roe</span></a></span></div>"
    )
    article = extract(byline, None, now=NOW)
    assert article.authors == ("Max Roe",)
    assert article.provenance["authors"] == "byline-markup"
    # an hCard byline (WordPress): the entry's author, never a commenter's vcard
    hcard = article_page(
        before="<span class='byline'>by <span class='author vcard'>"
        "<a class='url fn n' href='/author/ann/'>Ann Lee</a></span></span>",
        after="<div class='comment-author vcard'><b class='fn'>A Reader</b></div>",
    )
    assert extract(hcard, None, now=NOW).authors == ("Ann Lee",)


def test_missing_date_is_recorded() -> None:
    article = extract(article_page(), "https://gazette.example/a", now=NOW)
    assert article.published is None
    assert article.errors["published"] == "no date found"


@pytest.mark.parametrize(
    "script",
    [
        '{"@type": "NewsArticle", "headline": "A",}',
        '<!-- {"@type": "NewsArticle", "headline": "A"} -->',
        '//<![CDATA[\n{"@type": "NewsArticle", "headline": "A"}\n//]]>',
        '{"@type": "WebSite", "name": "x"}\n{"@type": "NewsArticle", "headline": "A"}',
        '[{"@type": "NewsArticle", "headline": "A"}]',
        '{"@graph": [{"@type": "NewsArticle", "headline": "A"}]}',
        '{"@type": "NewsArticle", "headline": "line\nbreak A"}',
    ],
)
def test_jsonld_is_read_leniently(script: str) -> None:
    objects = parse_jsonld(script)
    assert any(o.get("@type") == "NewsArticle" for o in objects)


def test_invalid_jsonld_is_skipped() -> None:
    assert parse_jsonld("{not json at all") == []
    head = '<script type="application/ld+json">{broken</script>'
    article = extract(article_page(head=head), "https://gazette.example/a", now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)


# ----------------------------------------------------------------------------- per-site rules


def test_rules_take_precedence_field_by_field() -> None:
    inside = "<p class='stamp'><time datetime='2026-01-09'>9 January</time></p>"
    page = article_page(inside=inside).replace("<h1>", "<h1 class='headline'>")
    rules = SiteRules(title="h1.headline", published="p.stamp time", body="div.article-body p")
    article = extract(page, "https://gazette.example/a", rules=rules, now=NOW)
    assert article.title == "Council approves budget after long debate"
    assert article.provenance["title"] == "rule:h1.headline"
    assert article.published is not None and article.published.date().isoformat() == "2026-01-09"
    assert article.date_precision == "date"
    assert article.provenance["published"] == "rule:p.stamp time"
    assert article.provenance["body"] == "rule:div.article-body p"
    assert paragraphs(article.body)[:3] == list(ARTICLE_PARAGRAPHS)
    assert article.errors == {}


def test_body_rule_may_name_an_element_the_generic_cleaner_drops() -> None:
    page = article_page(
        after="<aside class='story'><p>The full text lives in an aside on this site.</p>"
        "<script>var x = 1;</script></aside>"
    )
    article = extract(page, None, rules=SiteRules(body="aside.story"), now=NOW)
    assert article.body == "The full text lives in an aside on this site."
    assert article.provenance["body"] == "rule:aside.story"


def test_rule_date_format_and_timezone() -> None:
    inside = "<span class='when'>09.Jan.2026 14:30</span>"
    rules = SiteRules(published="span.when", date_format="%d.%b.%Y %H:%M", timezone="Europe/Berlin")
    article = extract(article_page(inside=inside), None, rules=rules, now=NOW)
    assert article.published is not None
    assert article.published.isoformat() == "2026-01-09T14:30:00+01:00"


def test_rules_that_match_nothing_fall_back_and_say_so() -> None:
    rules = SiteRules(title="h1.nope", published="time.nope", body="div.x")
    article = extract(article_page(), "https://gazette.example/a", rules=rules, now=NOW)
    assert article.errors["body"] == "selector 'div.x' matched nothing; used generic extractor"
    assert article.errors["title"] == "selector 'h1.nope' matched nothing; used generic extractor"
    assert article.errors["published"].startswith("selector 'time.nope' matched nothing")
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)
    assert article.provenance["body"].startswith("generic:")
    assert article.title == "Council approves budget after long debate"


def test_rule_date_that_does_not_parse_is_recorded() -> None:
    rules = SiteRules(published="div.article-body p")
    article = extract(article_page(), None, rules=rules, now=NOW)
    assert "which is not a date; used generic extractor" in article.errors["published"]


def test_invalid_rule_selector_is_recorded_not_raised() -> None:
    article = extract(article_page(), None, rules=SiteRules(body="div[[["), now=NOW)
    assert article.errors["body"].startswith("invalid selector 'div[[['")
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)


def test_exclude_rules_remove_nodes_before_body_detection() -> None:
    inside = (
        "<p class='promo-note'>This long promotional note is written like a paragraph, "
        "with commas, and should be removed by the exclude rule.</p>"
    )
    rules = SiteRules(exclude=("p.promo-note",))
    article = extract(article_page(inside=inside), None, rules=rules, now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)


def test_unknown_timezone_is_recorded() -> None:
    article = extract(article_page(), None, rules=SiteRules(timezone="Mars/Olympus"), now=NOW)
    assert article.errors["timezone"] == "unknown timezone 'Mars/Olympus'; used UTC"


# ----------------------------------------------------------------------------- input


def test_bytes_input_is_decoded() -> None:
    page = article_page(h1="Grüße aus Köln: Haushalt beschlossen").encode("utf-8")
    article = extract(
        page, None, headers={"content-type": "text/html; charset=iso-8859-1"}, now=NOW
    )
    assert article.title == "Grüße aus Köln: Haushalt beschlossen"
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)


def test_bytes_in_a_legacy_charset() -> None:
    page = article_page(head="<meta charset='windows-1252'>", h1="Café “crème” débat")
    article = extract(page.encode("cp1252"), None, now=NOW)
    assert article.title == "Café “crème” débat"


@pytest.mark.parametrize("empty", [b"", "", "   \n", b"\xef\xbb\xbf"])
def test_empty_input_gives_an_article_with_an_error(empty: str | bytes) -> None:
    article = extract(empty, "https://gazette.example/a", now=NOW)
    assert article.body == ""
    assert article.title is None
    assert article.url == "https://gazette.example/a"
    assert "document" in article.errors


@pytest.mark.parametrize(
    "junk",
    ["not html at all", "<<<>>>", "<html><body></body>", "\x00\x01binary", "<p>only</p>" * 3],
)
def test_odd_input_never_raises(junk: str) -> None:
    article = extract(junk, None, now=NOW)
    assert isinstance(article.body, str)


@pytest.mark.parametrize("url", ["http://[x", "not a url", "", None])
def test_malformed_urls_in_the_page_or_given_never_raise(url: str | None) -> None:
    head = (
        "<meta property='og:image' content='http://[broken'>"
        "<link rel='canonical' href='http://[broken'>"
    )
    posted = "<p>Posted <a href='http://[broken'><time datetime='2024-01-02'>2 Jan</time></a></p>"
    article = extract(article_page(head=head, before=posted), url, now=NOW)
    assert paragraphs(article.body) == list(ARTICLE_PARAGRAPHS)
    assert article.image is None


def test_wrong_input_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        extract(12345, None)  # type: ignore[arg-type]


def test_language_detected_from_the_body_when_markup_has_none() -> None:
    paragraphs = "".join(
        f"<p>Die Stadtverwaltung hat am Dienstag beschlossen, den Hafen bis zum Sommer "
        f"umzubauen, und die Bürger wurden zu einer Versammlung eingeladen ({i}).</p>"
        for i in range(6)
    )
    page = (
        "<html><head><title>Hafen</title></head><body><article>"
        f"<h1>Hafen wird umgebaut</h1>{paragraphs}</article></body></html>"
    )
    article = extract(page, None, now=NOW)
    assert article.language == "de"
    assert article.provenance["language"] == "guess:text"
    assert extract("<html><body><p>Kurz.</p></body></html>", None, now=NOW).language is None


# ----------------------------------------------------------------------------- title tails


@pytest.mark.parametrize(
    ("signals", "expected", "source"),
    [
        (  # an og:title cut after a conjunction gives way to the next intact signal
            TitleSignals(
                og="Marathon: clear winner and",
                twitter="Marathon: clear winner and",
                jsonld="Children's race: parents kept away",
                title_tag='Marathon: clear winner and "a royal visit"',
            ),
            "Children's race: parents kept away",
            "json-ld:headline",
        ),
        (
            TitleSignals(og="Storm hits the coast…", h1="Storm hits the coast, towns flooded"),
            "Storm hits the coast, towns flooded",
            "h1",
        ),
        (  # an upper-case last letter is a name, not a cut: "Vitamin E"
            TitleSignals(og="Why you need Vitamin E", jsonld="Vitamins explained"),
            "Why you need Vitamin E",
            "og:title",
        ),
        (  # every signal cut short: the most trusted one still wins
            TitleSignals(og="Budget vote and", title_tag="Budget vote and"),
            "Budget vote and",
            "og:title",
        ),
        (  # a glued "-Section" tail after Hangul goes when it names the page's section
            TitleSignals(
                og="예산안 국회 통과됐다-정치ㅣ한국신문",
                site_names=("한국신문",),
                sections=("정치",),
            ),
            "예산안 국회 통과됐다",
            "og:title",
        ),
        (  # in a cased script a glued hyphen joins one word: kept
            TitleSignals(og="Talks between USA-Iran", sections=("Iran",)),
            "Talks between USA-Iran",
            "og:title",
        ),
        (
            TitleSignals(og="Budget approved - Politics", sections=("Politics",)),
            "Budget approved",
            "og:title",
        ),
        (  # a tail that is not one of the page's sections stays
            TitleSignals(og="Budget approved - Politics", sections=("Sport",)),
            "Budget approved - Politics",
            "og:title",
        ),
    ],
)
def test_title_cut_short_and_section_tail(
    signals: TitleSignals, expected: str, source: str
) -> None:
    assert choose_title(signals) == (expected, source)


def test_title_section_tail_read_from_page_metadata() -> None:
    head = (
        "<meta property='og:title' content='Council passes the budget - Politics'>"
        "<meta property='article:section' content='Politics'>"
    )
    article = extract(article_page(head=head), "https://gazette.example/a", now=NOW)
    assert article.title == "Council passes the budget"
    crumbs = (
        '<script type="application/ld+json">{"@type":"BreadcrumbList","itemListElement":['
        '{"@type":"ListItem","position":1,"item":{"@id":"/","name":"Home"}},'
        '{"@type":"ListItem","position":2,"item":{"@id":"/local","name":"Local"}},'
        '{"@type":"ListItem","position":3,"name":"Live updates"}]}</script>'
    )
    head = "<meta property='og:title' content='Council passes the budget - Local'>" + crumbs
    article = extract(article_page(head=head), "https://gazette.example/a", now=NOW)
    assert article.title == "Council passes the budget"
    # the last crumb is the page itself, never a section
    head = "<meta property='og:title' content='Storm warning - Live updates'>" + crumbs
    article = extract(article_page(head=head), "https://gazette.example/a", now=NOW)
    assert article.title == "Storm warning - Live updates"


def test_explain_shows_when_date_sources_disagree() -> None:
    from scraper.cli.render import explanation

    html = (
        '<html><head><script type="application/ld+json">'
        '{"@type": "NewsArticle", "datePublished": "2026-01-02T08:00:00+00:00"}</script>'
        "</head><body><article><h1>Council approves the new bridge budget</h1>"
        f"<p>{'The council met on Monday and approved the budget for the bridge. ' * 6}</p>"
        "</article></body></html>"
    )
    article = extract(html, "https://news.example.com/2026/01/05/bridge-budget")
    assert article.published == datetime(2026, 1, 2, 8, tzinfo=UTC)
    expected = "json-ld:datePublished 2026-01-02 vs url 2026-01-05 (3 days)"
    assert article.provenance["published_disagreement"] == expected
    assert f"sources disagree: {expected}" in explanation(article)
