"""Feed and sitemap XML read one entry at a time, each entry dropped once it has been read.

A sitemap of 100,000 URLs is never built as one tree: the document is parsed with
defusedxml's ``iterparse`` (which refuses entity expansion and external entities), every
element is handed over as it ends, and the entries (``<url>``, ``<item>``, ``<entry>``)
are removed from the tree once the reader has seen them.  Memory is then that of one
entry plus what the reader keeps, and a reader that has enough simply stops: the rest
of the document is never parsed.  Gzip data is first inflated under
:data:`MAX_XML_BYTES` by the fetcher's bounded inflater.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ..errors import ExtractError
from ..fetch.body import CorruptCompressed, InflatedTooLarge, inflate_capped

MAX_XML_BYTES = 50_000_000  # the sitemap protocol's limit for one uncompressed file

_T = TypeVar("_T")
_LEADING = re.compile(rb"[\xef\xbb\xbf \t\r\n]*")  # a BOM and blank lines before the XML
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_CHUNK = 64 * 1024


def read_xml(data: bytes, url: str, what: str, reader: Callable[[XmlStream], _T]) -> _T:
    """``reader(stream)`` over the XML document in ``data`` (gzip or not).

    ``what`` ("feed", "sitemap") names the document in errors: anything that is not
    well-formed XML raises :class:`ExtractError` naming ``url`` and the problem.  A
    document that uses HTML entities (``&nbsp;``) is read again with them turned into
    character references.
    """
    body = _gunzip(data, url, what)
    try:
        with XmlStream(body, url, what, retry_entities=True) as stream:
            return reader(stream)
    except _HtmlEntity:
        with XmlStream(_ENTITY.sub(_numeric_entity, body), url, what) as stream:
            return reader(stream)


class XmlStream:
    """One XML document being read; ``root`` is its element, without children yet."""

    def __init__(self, data: bytes, url: str, what: str, *, retry_entities: bool = False) -> None:
        self.url = url
        self.what = what
        self._retry_entities = retry_entities  # raise _HtmlEntity at an undefined entity
        self._events = self._parse(data)
        self.root = self._first()

    def ends(self, prune_depth: int) -> Iterator[tuple[Element, int]]:
        """Each element once it has ended (its children complete), with its depth.

        The root's depth is 0.  An element at ``prune_depth`` or above (an entry, or
        one of its siblings) is removed from its parent when the caller takes the
        next one, so the tree never holds more than one entry at that level.
        """
        stack = [self.root]
        for event, element in self._events:
            if event == "start":
                stack.append(element)
                continue
            stack.pop()
            depth = len(stack)
            yield element, depth
            if stack and depth <= prune_depth:
                stack[-1].remove(element)

    def close(self) -> None:
        self._events.close()

    def __enter__(self) -> XmlStream:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _first(self) -> Element:
        for event, element in self._events:
            if event == "start":
                return element
        raise ExtractError(f"{self.url}: the {self.what} is empty")  # pragma: no cover

    def _parse(self, data: bytes) -> Generator[tuple[str, Element], None, None]:
        start = _LEADING.match(data)
        offset = start.end() if start else 0
        if offset == len(data):
            raise ExtractError(f"{self.url}: the {self.what} is empty")
        where = f"{self.url}: the {self.what}"
        try:
            yield from iterparse(_Chunks(data, offset), events=("start", "end"))
        except ParseError as exc:
            if self._retry_entities and "undefined entity" in str(exc):
                raise _HtmlEntity from None
            raise ExtractError(f"{where} is not well-formed XML ({exc})") from None
        except DefusedXmlException as exc:
            raise ExtractError(f"{where} uses a forbidden XML feature ({exc})") from None
        except (ValueError, LookupError) as exc:  # e.g. an unknown encoding in the declaration
            raise ExtractError(f"{where} cannot be decoded ({exc})") from None


class _HtmlEntity(Exception):
    """The document uses an entity XML does not define: read it again with them replaced."""


class _Chunks:
    """``data`` from ``offset`` as a file the parser reads in pieces (no copy of the whole)."""

    def __init__(self, data: bytes, offset: int) -> None:
        self._view = memoryview(data)
        self._at = offset

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else min(len(self._view), self._at + max(size, 1))
        chunk = bytes(self._view[self._at : end])
        self._at = end
        return chunk


def _numeric_entity(match: re.Match[bytes]) -> bytes:
    name = match.group(1).decode("ascii")
    codepoint = html.entities.name2codepoint.get(name)
    if name in _XML_ENTITIES or codepoint is None:
        return match.group(0)
    return f"&#{codepoint};".encode("ascii")


def _gunzip(data: bytes, url: str, what: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        return inflate_capped(data, MAX_XML_BYTES)
    except CorruptCompressed as exc:
        raise ExtractError(f"{url}: the {what} is corrupt gzip data ({exc})") from None
    except InflatedTooLarge:
        raise ExtractError(
            f"{url}: the {what} is larger than {MAX_XML_BYTES} bytes uncompressed"
        ) from None


# -- element helpers shared by the formats -------------------------------------------------


def split_tag(tag: object) -> tuple[str, str]:
    """``(namespace, local name)`` of a tag; ``("#", "#")`` for comments and PIs."""
    if not isinstance(tag, str):
        return "#", "#"
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def local_name(tag: object) -> str:
    return split_tag(tag)[1]
