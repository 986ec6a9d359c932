"""Generic article extraction: bytes or text of a page in, an ``Article`` out.

``extract`` and ``decode_html`` are imported on first use, so that importing a
package that merely sits beside this one stays quick.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Document": "document",
    "decode_html": "decode",
    "extract": "article",
    "extract_document": "article",
    "parse_document": "document",
}
__all__ = ["Document", "decode_html", "extract", "extract_document", "parse_document"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


if TYPE_CHECKING:
    from .article import extract, extract_document
    from .decode import decode_html
    from .document import Document, parse_document
