"""Pages that hold no article are told from short articles, in many languages."""

from __future__ import annotations

import pytest
from helpers import paragraph

from scraper.extract import parse_document
from scraper.extract.gate import not_an_article, site_names
from scraper.models import Article

SHORT_NEWS = (
    "The ferry to Ternholm will run twice a day from Monday, the operator said. "
    "Tickets bought for the old timetable stay valid until the end of the month."
)
LONG_NEWS = "\n\n".join(paragraph("Council approves harbour plan", i) for i in range(6))


def page(title: str | None, body: str) -> Article:
    return Article(url=None, title=title, published=None, body=body)


@pytest.mark.parametrize(
    ("title", "body", "kind"),
    [
        ("Access Denied", "You don't have permission to access this server.", "block"),
        ("Just a moment...", "Checking your browser before accessing the site.", "block"),
        ("Attention Required! | Cloudflare", "Please complete the security check.", "block"),
        ("Zugriff verweigert", "Sie haben keine Berechtigung für diese Seite.", "block"),
        ("404 Not Found", "The requested URL was not found on this server.", "error-page"),
        ("Page not found - Daily Post", "Try the search or the home page instead.", "error-page"),
        ("Seite nicht gefunden | Tagblatt", "Die Seite existiert nicht mehr.", "error-page"),
        ("Página no encontrada", "Lo sentimos, la página no existe.", "error-page"),
        ("Страница не найдена", "Запрошенная страница не существует.", "error-page"),
        ("News", "Please verify you are a human. Press & hold to confirm.", "block"),
        ("Story", "Already a subscriber? Sign in to continue reading this story.", "login"),
        ("Story", "Réservé aux abonnés. Abonnez-vous pour lire la suite de cet article.", "login"),
        (
            "Before you continue",
            "We and our partners use cookies and store personal data. Accept all, reject all "
            "or manage preferences; some vendors rely on legitimate interest.",
            "consent",
        ),
        (
            "Datenschutz",
            "Wir und unsere Partner verwenden Cookies. Mit Ihrer Einwilligung verarbeiten wir "
            "personenbezogene Daten. Zustimmen und weiter oder Cookie-Einstellungen ändern.",
            "consent",
        ),
        ("Story", "", "empty"),
        (None, "Share this story.", "empty"),
    ],
)
def test_pages_without_an_article(title: str | None, body: str, kind: str) -> None:
    found = not_an_article(page(title, body))
    assert found is not None and found.kind == kind, found


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Ferry adds winter sailings", SHORT_NEWS),
        ("Maintenance: road closed", SHORT_NEWS),  # a headline with a status word in it
        ("Error: council counts the votes twice", SHORT_NEWS),
        ("Cookies and you", "The bake sale sold cookies for the harbour fund. " * 8),
        ("Access Denied: the fight over the harbour path", LONG_NEWS),
        ("Council approves harbour plan", LONG_NEWS + " Subscribe to read more stories."),
        ("404 Not Found", LONG_NEWS),  # a long text is an article whatever the title says
    ],
)
def test_articles_are_let_through(title: str, body: str) -> None:
    assert not_an_article(page(title, body)) is None


def test_site_names_come_from_the_page_and_its_host() -> None:
    document = parse_document(
        '<html><head><meta property="og:site_name" content="The  Test Gazette">'
        '<meta name="application-name" content="Gazette"></head><body></body></html>'
    )
    names = site_names(document, "https://www.gazette.example/news/1")
    assert names == {"the test gazette", "gazette", "www.gazette.example", "gazette.example"}
