"""Generic article extraction: bytes or text of a page in, an ``Article`` out."""

from .article import extract
from .decode import decode_html

__all__ = ["decode_html", "extract"]
