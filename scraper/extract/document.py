"""One page parsed once: the tree that link finding and extraction share.

Readers that only look (the "Latest news" link finder) must read the tree before
:func:`~scraper.extract.article.extract_document`, which prunes it as it goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from .decode import decode_html, utf8_payload
from .fields import header

__all__ = ["Document", "parse_document"]


@dataclass(frozen=True)
class Document:
    """A parsed page, and the markup it was parsed from (for a rare second look)."""

    tree: LexborHTMLParser
    markup: str | bytes
    headers: Mapping[str, str]

    @property
    def empty(self) -> bool:
        return not self.markup.strip()


def parse_document(html: str | bytes, headers: Mapping[str, str] | None = None) -> Document:
    """Decode (BOM, header or ``<meta>`` charset, detection) and parse one page.

    UTF-8 bytes go to the parser as they are (lexbor reads UTF-8); raises
    ``TypeError`` for anything but ``str`` or bytes.
    """
    headers = headers or {}
    if isinstance(html, str):
        markup: str | bytes = html
    elif isinstance(html, bytes | bytearray | memoryview):
        data = bytes(html)
        content_type = header(headers, "content-type")
        payload = utf8_payload(data, content_type)
        markup = payload if payload is not None else decode_html(data, content_type)
    else:
        raise TypeError(f"extract() needs str or bytes, not {type(html).__name__}")
    return Document(LexborHTMLParser(markup), markup, headers)
