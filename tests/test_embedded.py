"""Client-rendered pages: the article comes from the data the page ships in its scripts."""

from __future__ import annotations

import json

from scraper import extract

PARAGRAPHS = [
    f"Paragraph {i}: the harbour board met on Tuesday and approved the plan for the new "
    f"tidal barrier, which will protect the old town from winter storms for decades."
    for i in range(4)
]
SHELL = (
    "<html><head><title>Barrier approved | Gazette</title>"
    "<meta property='og:title' content='Barrier approved'></head>"
    "<body><div id='__next'><nav><a href='/'>Home</a></nav><div class='spinner'></div></div>"
    "{script}</body></html>"
)


def test_article_html_inside_an_rsc_payload_is_used() -> None:
    fragment = "<br><br>".join(PARAGRAPHS) + "$$ARTICLEAD$$"
    inner = json.dumps(["$", "div", None, {"article": {"title": "t", "content": fragment}}])
    payload = json.dumps([1, f"5:{inner}"])  # a string holding JSON holding the HTML
    article = extract(SHELL.format(script=f"<script>self.__next_f.push({payload})</script>"))
    assert article.body.split("\n\n") == PARAGRAPHS
    assert article.provenance["body"] == "embedded:script-data"


def test_next_data_json_with_paragraph_markup() -> None:
    data = {"props": {"pageProps": {"story": {"body": "".join(f"<p>{p}</p>" for p in PARAGRAPHS)}}}}
    script = f"<script id='__NEXT_DATA__' type='application/json'>{json.dumps(data)}</script>"
    assert extract(SHELL.format(script=script)).body.split("\n\n") == PARAGRAPHS


def test_a_page_with_its_article_in_the_dom_ignores_script_data() -> None:
    decoy = json.dumps(
        {"teaser": "<p>" + "Another story entirely, from the archive. " * 20 + "</p>"}
    )
    page = (
        "<html><body><article><h1>Barrier approved</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + f"</article><script>window.__STATE__ = {decoy}</script></body></html>"
    )
    article = extract(page)
    assert article.body.split("\n\n") == PARAGRAPHS
    assert article.provenance["body"] != "embedded:script-data"
