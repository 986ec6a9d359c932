"""Turn the bytes of an HTML document into text.

The order of evidence follows the WHATWG encoding sniffing algorithm, simplified:
a byte order mark, then the charset of the HTTP ``Content-Type`` header, then a
``<meta charset>`` / ``<meta http-equiv="content-type">`` prescan of the first
bytes, then strict UTF-8, then charset-normalizer's guess.  Two corrections for
servers that lie: a latin-1 label (which WHATWG reads as windows-1252) on bytes
that are valid, non-ASCII UTF-8 is read as UTF-8, and a label whose codec fails
on the bytes is passed over rather than turning the page into replacement marks.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

__all__ = ["charset_from_content_type", "decode_html", "utf8_payload"]

PRESCAN_BYTES = 4096

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG label -> the Python codec that implements the WHATWG decoder (where they differ).
_WHATWG = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "latin-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    # a document that reached us as bytes cannot be UTF-16 if the label is in-band
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
}
_EXTRA_LABELS = {"x-sjis": "cp932", "x-user-defined": "cp1252", "unicode-1-1-utf-8": "utf-8"}
_LATIN1_LIKE = frozenset({"cp1252", "iso8859-15"})

_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:+-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:+-]+)""", re.IGNORECASE
)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value, as given, or None."""
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return match.group(1) if match else None


def codec_for_label(label: str) -> str | None:
    """The Python codec that decodes a charset label the way browsers do, or None."""
    label = label.strip().lower()
    if label in _EXTRA_LABELS:
        return _EXTRA_LABELS[label]
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _WHATWG.get(name, name)


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode an HTML document's bytes to text (see the module docstring for the order)."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(bom_codec, errors="replace")
    declared: list[str] = []
    for label in _labels(data, content_type):
        codec = codec_for_label(label)
        if codec is None:
            continue
        declared.append(codec)
        decoded = _try_decode(data, codec)
        if decoded is not None:
            return decoded
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _guess(data, declared[0] if declared else None)


def utf8_payload(data: bytes, content_type: str | None = None) -> bytes | None:
    """The bytes to parse as UTF-8 as they are, when :func:`decode_html` would read UTF-8.

    This saves decoding to ``str`` only for the parser to encode it back.  None means
    the document needs :func:`decode_html` (another charset, or a guess).
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    for label in _labels(data, content_type):
        codec = codec_for_label(label)
        if codec == "utf-8":
            return data
        if codec in _LATIN1_LIKE and _valid_utf8(data) is not None:
            return data
        if codec is not None and _try_decode(data, codec) is not None:
            return None  # decode_html will read it with this codec
    return _valid_utf8(data)


def _valid_utf8(data: bytes) -> bytes | None:
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data


def _labels(data: bytes, content_type: str | None) -> list[str]:
    return [
        label for label in (charset_from_content_type(content_type), _prescan_meta(data)) if label
    ]


def _prescan_meta(data: bytes) -> str | None:
    match = _META_CHARSET.search(data, 0, PRESCAN_BYTES)
    return match.group(1).decode("ascii") if match else None


def _try_decode(data: bytes, codec: str) -> str | None:
    """Decode strictly; a latin-1 label on valid non-ASCII UTF-8 is read as UTF-8.

    A UTF-8 label is trusted: malformed sequences become U+FFFD, as in a browser.
    """
    if codec == "utf-8":
        return data.decode("utf-8", errors="replace")
    if codec in _LATIN1_LIKE and not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _guess(data: bytes, fallback: str | None) -> str:
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace")
    return data.decode(fallback or "cp1252", errors="replace")
