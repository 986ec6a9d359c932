"""Choose the headline among the page's title signals and strip site-name parts.

Signals, in order of trust: ``og:title``, the JSON-LD ``headline``, ``twitter:title``,
the ``<h1>`` nearest the content, and ``<title>``.  Each is cleaned of parts that name
the site (``og:site_name``, the publisher, the host) and of a trailing
"- Section - Site" tail; the first clean candidate that is not just the site's name
wins, except that a candidate cut short (a prefix of a longer signal) gives way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .fields import registrable_domain
from .filters import text_key
from .metadata import PageMeta, clean_text

__all__ = ["TitleSignals", "choose_title", "strip_site_name"]

_SEPARATORS = re.compile(
    r"\s+(?:[|–—·»/*•]|-{1,2}|::)\s+|\s*:\s+|\s*[|ㅣ│｜：]\s*|\s+-(?=\S)|(?<=\S)-\s+"
)
_TAIL = re.compile(r"\s*(?:[|–—·»/*•:：ㅣ│｜]|-{1,2})")
_MAX_TAIL_WORDS = 6
_SPLIT_KEEP = re.compile(f"({_SEPARATORS.pattern})")
_MAX_SECTION_WORDS = 3
# A title cut short ends in a conjunction or article (lower case, so "Vitamin E" is no
# cut) or in an ellipsis; such a candidate gives way to the next intact one.
_TRUNCATED = re.compile(
    r"(?:\s(?:and|or|the|und|oder|der|et|ou|les|y|e|el|los|las|il|og|och|ve|oraz|и)"
    r"|\.{3}|…)$"
)
# "Headline - Section" or "Headline-Section": the tail names one of the page's sections.
# A glued hyphen only counts after a letter without case (Hangul, CJK) or a non-letter:
# in cased scripts "USA-Iran" or "Berlin-Mitte" is one compound word.
_SECTION_TAIL = re.compile(
    r"(?:\s+(?:[|–—·»/*•ㅣ│｜]|-{1,2})\s*|(?<=\S)-)([^\s|–—·»/*•ㅣ│｜-]+(?:\s+\S+){0,2})$"
)
_VOICE = {"twitter:title": "og:title", "title-tag": "og:title"}
_SECTION_KEYS = ("section", "category")
_LIST_SPLIT = re.compile(r"\s*[,;|]\s*")


@dataclass(frozen=True)
class TitleSignals:
    """The raw title strings of one page, each None when absent."""

    og: str | None = None
    jsonld: str | None = None
    twitter: str | None = None
    h1: str | None = None
    title_tag: str | None = None
    site_names: tuple[str, ...] = ()  # og:site_name, publisher, host labels
    sections: tuple[str, ...] = ()  # article:section, articleSection, breadcrumb names

    def ordered(self) -> list[tuple[str, str]]:
        pairs = [
            ("og:title", self.og),
            ("json-ld:headline", self.jsonld),
            ("twitter:title", self.twitter),
            ("h1", self.h1),
            ("title-tag", self.title_tag),
        ]
        return [(name, value) for name, value in pairs if value]


def signals_from(meta: PageMeta, *, h1: str | None, host: str | None) -> TitleSignals:
    names = [
        meta.first("og:site_name", "application-name", "al:ios:app_name", "twitter:site"),
        _publisher(meta),
    ]
    if host:
        names.append(host)
    return TitleSignals(
        og=clean_text(meta.first("og:title")),
        jsonld=clean_text(meta.ld_value("headline") or meta.ld_value("name")),
        twitter=clean_text(meta.first("twitter:title")),
        h1=clean_text(h1),
        title_tag=clean_text(meta.title_tag),
        site_names=tuple(n for n in names if n),
        sections=_sections(meta),
    )


def _sections(meta: PageMeta) -> tuple[str, ...]:
    """The section names the page declares: section/category metas, JSON-LD, breadcrumbs."""
    values = [v for k, vs in meta.meta.items() if any(w in k for w in _SECTION_KEYS) for v in vs]
    for obj in meta.jsonld:
        values.extend(_strings(obj.get("articleSection")))
        values.extend(_breadcrumb_names(obj))
    values.extend(_strings(meta.ld_value("articleSection")))
    names = (part for value in values for part in _LIST_SPLIT.split(value))
    return tuple(dict.fromkeys(n for n in names if n and len(n.split()) <= _MAX_SECTION_WORDS))


def _breadcrumb_names(obj: Mapping[str, Any]) -> list[str]:
    if "BreadcrumbList" not in _strings(obj.get("@type")):
        return []
    items = obj.get("itemListElement")
    names: list[str] = []
    # The last crumb is often the article itself, so it never counts as a section.
    for item in items[:-1] if isinstance(items, list) else []:
        if isinstance(item, dict):
            inner = item.get("item")
            name = item.get("name") or (inner.get("name") if isinstance(inner, dict) else None)
            names.extend(_strings(name))
    return names


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _publisher(meta: PageMeta) -> str | None:
    publisher = meta.ld_value("publisher")
    if isinstance(publisher, list) and publisher:
        publisher = publisher[0]
    if isinstance(publisher, dict):
        name = publisher.get("name")
        return name if isinstance(name, str) else None
    return None


def choose_title(signals: TitleSignals) -> tuple[str, str] | None:
    """``(title, provenance)`` or None when the page has no usable title signal."""
    keys = _site_keys(signals.site_names)
    cleaned = [(name, strip_site_name(value, keys)) for name, value in signals.ordered()]
    cleaned = [(name, value) for name, value in cleaned if value and _key(value) not in keys]
    if not cleaned:
        return None
    intact = [(name, value) for name, value in cleaned if not _TRUNCATED.search(value)]
    name, value = (intact or cleaned)[0]
    value = _without_section(value, _section_keys(signals.sections))
    return _without_tail(value, cleaned), name


def _without_section(value: str, section_keys: frozenset[str]) -> str:
    """``value`` less a trailing "- Section" (or glued "-Section") naming the page's section."""
    match = _SECTION_TAIL.search(value)
    if not match or match.start() == 0 or _key(match.group(1)) not in section_keys:
        return value
    before = value[match.start() - 1]
    if match.group(0).startswith("-") and (before.isupper() or before.islower()):
        return value
    return value[: match.start()].rstrip()


def _section_keys(sections: Sequence[str]) -> frozenset[str]:
    return frozenset(k for k in (_key(s) for s in sections) if k)


def _without_tail(value: str, signals: Sequence[tuple[str, str]]) -> str:
    """``value`` less a "- Section" tail when another signal is exactly the part before it.

    The tail stays when more voices carry it than leave it out: it is then part of the
    headline as the publisher states it.  ``og:title``, ``twitter:title`` and ``<title>``
    are usually one string copied three times, so together they are one voice.
    """
    for _, other in signals:
        if len(other) < len(value) and value.startswith(other):
            rest = value[len(other) :]
            if (
                _TAIL.match(rest)
                and len(rest.split()) <= _MAX_TAIL_WORDS
                and _voices(other, signals) >= _voices(value, signals)
            ):
                return other
    return value


def _voices(value: str, signals: Sequence[tuple[str, str]]) -> int:
    key = _key(value)
    return len({_VOICE.get(name, name) for name, signal in signals if _key(signal) == key})


def strip_site_name(title: str, site_keys: frozenset[str]) -> str:
    """Remove the segments that name the site (and what trails them), and a section before."""
    parts = _SPLIT_KEEP.split(title)
    segments, seps = parts[::2], parts[1::2]
    if len(segments) < 2:
        return title
    cut = _first_site_segment(segments, site_keys)
    if cut is not None:
        site_sep = seps[cut - 1]
        del segments[cut:]
        del seps[cut - 1 :]
        if len(segments) > 1 and _is_section(segments[-1], seps[-1], site_sep):
            segments.pop()
            seps.pop()
    while len(segments) > 1 and _names_site(segments[0], site_keys):
        segments.pop(0)
        seps.pop(0)
    out = segments[0]
    for sep, seg in zip(seps, segments[1:], strict=True):
        out += sep + seg
    return out.strip()


def _first_site_segment(segments: list[str], site_keys: frozenset[str]) -> int | None:
    """Index (>= 1) of the first segment naming the site when only short ones follow it."""
    for index in range(1, len(segments)):
        if _names_site(segments[index], site_keys):
            tail = segments[index + 1 :]
            if all(len(seg.split()) <= _MAX_TAIL_WORDS for seg in tail):
                return index
    return None


def _is_section(segment: str, sep: str, previous_sep: str) -> bool:
    return sep.strip() == previous_sep.strip() and len(segment.split()) <= _MAX_SECTION_WORDS


def _names_site(segment: str, site_keys: frozenset[str]) -> bool:
    key = _key(segment)
    if not key:
        return True
    if key in site_keys or any(len(key) >= 4 and key in site for site in site_keys):
        return True
    if len(segment.split()) > _MAX_SECTION_WORDS:
        return False
    return any(
        len(site) >= 3 and (key.startswith(site) or key.endswith(site)) for site in site_keys
    )


def _site_keys(names: Sequence[str]) -> frozenset[str]:
    keys: set[str] = set()
    for name in names:
        name = name.strip().lstrip("@")
        if "." in name and " " not in name:  # a host name
            domain = registrable_domain(name.lower())
            keys.add(_key(domain.split(".")[0]))
            keys.add(_key(domain))
            keys.add(_key(name))
            # a hosted blog's own name is its subdomain: islandnotebook.blogspot.com
            keys.update(_key(label) for label in _subdomains(name.lower(), domain))
        else:
            keys.add(_key(name))
    keys.discard("")
    return frozenset(keys)


def _subdomains(host: str, domain: str) -> list[str]:
    labels = host.removesuffix(domain).strip(".").split(".")
    return [label for label in labels if len(label) >= 4 and label not in _GENERIC_LABELS]


_GENERIC_LABELS = frozenset({"www", "www2", "mobile", "news", "blog", "blogs", "edition"})


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text_key(text)
