"""Pages that hold no article: empty, consent walls, login or paywall stubs, error and block pages.

Such pages are served with status 200 often enough; stored, they would replace real
articles or become rows of their own.  :func:`not_an_article` tells them by what holds
across sites and languages, never by one site's wording:

- the text is nearly empty;
- the title is a status ("404", "Access Denied", "Page not found", "Just a moment...")
  in one of many languages, on a short page;
- a short page is dominated by the vocabulary such pages use: cookie consent, sign-in
  and subscription prompts, bot checks.

The repeated-text test (the same short text on many URLs of one site) needs the other
pages, so the article stage and the store apply it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..models import Article
from .document import Document

__all__ = ["Rejection", "is_short", "not_an_article", "site_names"]

MIN_TEXT = 150  # characters: less than this is no article at all
SHORT_PAGE = 1500  # characters: only a page this short can be a status, login or block page
CONSENT_PAGE = 2500  # characters: a consent wall may carry a long list of "partners"


@dataclass(frozen=True)
class Rejection:
    """Why a page holds no article: a kind for counting, and a message for people."""

    kind: str  # "empty" | "error-page" | "block" | "consent" | "login"
    message: str


# A whole title (or a segment of it between separators) that is a status, not a headline.
_STATUS_TITLE = re.compile(
    r"""(?:[45]\d\d(?:\s+\w+){0,3}|error(?:\s+[45]\d\d)?|not\s+found|page\s+not\s+found
    |oops[!.]*(?:\s+something\s+went\s+wrong)?
    |file\s+not\s+found|page\s+(?:does\s+not|doesn't)\s+exist|access\s+denied|forbidden
    |permission\s+denied|unauthori[sz]ed|service\s+unavailable|bad\s+gateway|gateway\s+time-?out
    |internal\s+server\s+error|temporarily\s+unavailable|site\s+(?:is\s+)?under\s+maintenance
    |maintenance|just\s+a\s+moment\.*|attention\s+required!?|please\s+wait\.*|one\s+moment,?\s+please\.*
    |are\s+you\s+a\s+robot\??|security\s+check|captcha|request\s+blocked|blocked
    |seite\s+nicht\s+gefunden|fehler|zugriff\s+verweigert|page\s+introuvable|erreur|accès\s+refusé
    |página\s+no\s+encontrada|acceso\s+denegado|pagina\s+non\s+trovata|accesso\s+negato
    |página\s+não\s+encontrada|acesso\s+negado|pagina\s+niet\s+gevonden|toegang\s+geweigerd
    |strona\s+nie\s+została\s+znaleziona|nie\s+znaleziono\s+strony|brak\s+dostępu
    |страница\s+не\s+найдена|ошибка|доступ\s+запрещ[её]н|sayfa\s+bulunamadı|erişim\s+engellendi
    |ページが見つかりません|アクセスが拒否されました|页面不存在|页面未找到|找不到页面|访问被拒绝
    |페이지를\s+찾을\s+수\s+없습니다|الصفحة\s+غير\s+موجودة|הדף\s+לא\s+נמצא)""",
    re.IGNORECASE | re.VERBOSE,
)
# A status title that says the crawler is kept out (rather than that the page is missing).
_BLOCK_TITLE = re.compile(
    r"denied|forbidden|blocked|moment|attention|robot|security|captcha|verweigert|refusé"
    r"|denegado|negato|negado|geweigerd|dostępu|запрещ|engellendi|拒否|拒绝",
    re.IGNORECASE,
)
_TITLE_PARTS = re.compile(r"\s+[|–—·•-]\s+|\s*[|–—·•]\s*")

_BOT_CHECK = re.compile(
    r"""verify\s+(?:that\s+)?you\s+are\s+(?:a\s+)?human|checking\s+(?:if\s+the\s+site\s+connection
    \s+is\s+secure|your\s+browser)|enable\s+javascript\s+and\s+cookies\s+to\s+continue
    |unusual\s+traffic\s+from\s+your\s+(?:computer|network)|are\s+you\s+a\s+robot
    |access\s+to\s+this\s+page\s+has\s+been\s+denied|you\s+have\s+been\s+blocked
    |request\s+(?:was\s+)?blocked|ddos\s+protection|press\s+(?:&|and)\s+hold|captcha
    |performance\s+(?:&|and)\s+security\s+by|ray\s+id:|kein\s+roboter|pas\s+un\s+robot
    |no\s+eres\s+un\s+robot|non\s+sei\s+un\s+robot|não\s+é\s+um\s+robô|не\s+робот""",
    re.IGNORECASE | re.VERBOSE,
)
_CONSENT = re.compile(
    r"""\b(?:cookies?|consent|partners?|vendors?|legitimate\s+interest|personali[sz]ed\s+ads
    |manage\s+(?:preferences|options|settings)|accept\s+all|reject\s+all|privacy\s+(?:policy|settings)
    |personal\s+data|einwilligung|zustimmen|akzeptieren|datenschutz|cookie-?einstellungen
    |consentement|accepter|refuser|paramétrer|données\s+personnelles|consentimiento|aceptar
    |rechazar|datos\s+personales|consenso|accetta|rifiuta|dati\s+personali|consentimento
    |aceitar|rejeitar|dados\s+pessoais|toestemming|akkoord|weigeren|zgod[aęy]|akceptuj
    |odrzuć|согласи[еяю]|принять|файлы\s+cookie|çerez|kabul\s+et|onay)""",
    re.IGNORECASE | re.VERBOSE,
)
_LOGIN = re.compile(
    r"""(?:sign|log)\s*(?:in|on)\s+to\s+(?:continue|read|view|access)|subscribe\s+to\s+(?:continue
    |read|unlock|access)|create\s+(?:a\s+)?(?:free\s+)?account\s+to|already\s+(?:a\s+)?
    (?:subscriber|member)|for\s+subscribers\s+only|this\s+(?:content|article)\s+is\s+(?:only\s+)?
    (?:for|available\s+to)\s+(?:subscribers|members)|continue\s+reading\s+with|start\s+your
    \s+(?:free\s+)?trial|jetzt\s+(?:abonnieren|anmelden|weiterlesen\s+mit)|melden\s+sie\s+sich\s+an
    |abonnez-vous|connectez-vous\s+pour|réservé\s+aux\s+abonnés|suscríbete\s+para
    |inicia\s+sesión\s+para|solo\s+para\s+suscriptores|abbonati\s+per|accedi\s+per
    |riservato\s+agli\s+abbonati|assine\s+para|faça\s+login|exclusivo\s+para\s+assinantes
    |log\s+in\s+om|word\s+abonnee|zaloguj\s+się|войдите|подпишитесь|giriş\s+yap""",
    re.IGNORECASE | re.VERBOSE,
)


def is_short(text: str) -> bool:
    """Whether a text is short enough to be a stub page rather than an article."""
    return len(" ".join(text.split())) < SHORT_PAGE


def not_an_article(article: Article) -> Rejection | None:
    """Why the extracted page holds no article, or None when it may be one."""
    text = " ".join(article.body.split())
    size = len(text)
    title = " ".join((article.title or "").split())
    if size < SHORT_PAGE and _status_title(title):
        kind = "block" if _BLOCK_TITLE.search(title) else "error-page"
        return Rejection(kind, f"the title is a status: {title[:80]!r}")
    if size < SHORT_PAGE and (match := _BOT_CHECK.search(text)):
        return Rejection("block", f"a bot check or block page ({match.group(0)!r})")
    if size < SHORT_PAGE and (match := _LOGIN.search(text)):
        return Rejection("login", f"a sign-in or subscription stub ({match.group(0)!r})")
    if size < CONSENT_PAGE and _consent_wall(text):
        return Rejection("consent", "a cookie-consent wall")
    if size < MIN_TEXT:
        return Rejection("empty", f"no article text ({size} characters)")
    return None


def _status_title(title: str) -> bool:
    if not title:
        return False
    parts = [p.strip(" .!") for p in _TITLE_PARTS.split(title) if p.strip(" .!")]
    return any(_STATUS_TITLE.fullmatch(part) for part in parts[:2])


def _consent_wall(text: str) -> bool:
    """Consent vocabulary dense enough that the page is about cookies, not about news."""
    found = [m.group(0).lower() for m in _CONSENT.finditer(text)]
    distinct = {re.sub(r"\s+", " ", term) for term in found}
    words = max(1, len(text.split()))
    return len(distinct) >= 3 and len(found) / words >= 0.03


def site_names(document: Document, url: str | None = None) -> frozenset[str]:
    """The names the page gives its site (``og:site_name``, ``application-name``) and its
    host, casefolded: a "title" that is one of them is no headline."""
    names = set()
    for selector in ('meta[property="og:site_name"]', 'meta[name="application-name"]'):
        node = document.tree.css_first(selector)
        content = node.attributes.get("content") if node is not None else None
        if content and content.strip():
            names.add(" ".join(content.split()).casefold())
    host = (urlsplit(url).hostname or "") if url else ""
    if host:
        names |= {host, host.removeprefix("www.")}
    return frozenset(names)


MAX_DEPTH = 2000  # element nesting no real page comes near; parsing cost grows as its square

_TAG = re.compile(
    rb"<(?:script|style|textarea)\b.*?</(?:script|style|textarea)\s*>|<!--.*?-->"
    rb"|<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*?(/?)>",
    re.DOTALL | re.IGNORECASE,
)
# Elements that never nest: void ones, and those whose end tag the parser implies.
_FLAT = frozenset(
    b"area base br col embed hr img input link meta source track wbr p li dt dd option "
    b"optgroup tr td th thead tbody tfoot colgroup rt rp".split()
)


def nesting_depth(markup: str | bytes, limit: int = MAX_DEPTH) -> int:
    """How deep elements nest in ``markup``, counted from its tags without parsing it
    (scripts, styles and comments skipped); the count stops early past ``limit``."""
    data = markup.encode("utf-8", "replace") if isinstance(markup, str) else markup
    depth = deepest = 0
    for match in _TAG.finditer(data):
        name = match.group(2)
        if name is None or match.group(3) or name.lower() in _FLAT:
            continue
        if match.group(1):
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest
