"""Bounded decoding of HTTP response bodies (gzip, deflate), shared by every reader of bytes.

Nothing here knows about httpx: the fetcher feeds the raw bytes of a response into a
:class:`BodyReader`, which undoes the content coding and enforces the size cap on the
*decoded* bytes as they are produced, so a compression bomb never allocates past the cap.
:func:`inflate_capped` does the same for a gzip document already in memory (a
``sitemap.xml.gz`` the server sent as ``application/gzip``).
"""

from __future__ import annotations

import zlib

from ..errors import ConnectionFailed, NotHTML, TooLarge

__all__ = [
    "ACCEPT_ENCODING",
    "BodyReader",
    "CorruptCompressed",
    "InflatedTooLarge",
    "inflate_capped",
]

ACCEPT_ENCODING = "gzip, deflate"
"""Codings we can inflate with a bounded output size (brotli/zstd offer no such API here)."""

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_STEP = 1 << 20  # inflate_capped's output per zlib call: a bomb stops near the cap, not at 2x
_GZIP_MAGIC = b"\x1f\x8b"


class _Inflater:
    """One gzip or deflate stream, producing at most ``limit`` bytes per call."""

    def __init__(self, coding: str) -> None:
        self._gzip = coding in ("gzip", "x-gzip")
        self._wbits = _GZIP_WBITS if self._gzip else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(self._wbits)
        self._started = False

    def inflate(self, data: bytes, limit: int) -> tuple[bytes, bytes]:
        """Return the output (at most ``limit`` bytes) and the input still to be fed."""
        try:
            out = self._obj.decompress(data, limit)
        except zlib.error:
            if self._gzip or self._started or self._wbits < 0:
                raise
            # "deflate" is often sent raw, without the zlib header.
            self._wbits = -zlib.MAX_WBITS
            self._obj = zlib.decompressobj(self._wbits)
            out = self._obj.decompress(data, limit)
        self._started = True
        if not self._obj.eof:
            return out, self._obj.unconsumed_tail
        rest = self._obj.unused_data
        if self._gzip and rest.startswith(_GZIP_MAGIC):  # concatenated gzip members
            self._obj = zlib.decompressobj(self._wbits)
            return out, rest
        return out, b""  # trailing garbage after the stream is ignored

    def flush(self) -> bytes:
        return self._obj.flush()


class CorruptCompressed(ValueError):
    """The bytes are not a valid gzip stream (callers translate this into their error kind)."""


class InflatedTooLarge(ValueError):
    """Inflating would produce more than ``cap`` bytes (callers translate it too)."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"more than {cap} bytes after decompression")
        self.cap = cap


def inflate_capped(data: bytes, cap: int) -> bytes:
    """Inflate gzip ``data`` (concatenated members too), producing at most ``cap + 1`` bytes.

    Output comes in steps of at most 1 MiB, so a bomb is dropped near the cap. Raises
    :class:`InflatedTooLarge` as soon as the output passes ``cap`` and
    :class:`CorruptCompressed` when ``data`` is not gzip. Bytes after the last member that
    do not start another member are ignored, as :class:`BodyReader` does.
    """
    if cap < 0:
        raise ValueError(f"cap must not be negative, got {cap}")
    inflater = _Inflater("gzip")
    parts: list[bytes] = []
    size, rest = 0, data
    try:
        while rest:
            out, rest = inflater.inflate(rest, min(cap + 1 - size, _STEP))
            parts.append(out)
            size += len(out)
            if size > cap:
                raise InflatedTooLarge(cap)
        tail = inflater.flush()
    except zlib.error as exc:
        raise CorruptCompressed(str(exc)) from exc
    if size + len(tail) > cap:
        raise InflatedTooLarge(cap)
    parts.append(tail)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class BodyReader:
    """Collects one response body, decoded, never holding more than ``cap`` decoded bytes.

    With ``truncate`` the body is cut at the cap (robots.txt: parse the first 500 KiB);
    otherwise exceeding the cap raises :class:`TooLarge`.
    """

    def __init__(self, url: str, *, coding: str, cap: int, truncate: bool = False) -> None:
        coding = coding.strip().lower()
        if coding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise NotHTML(f"unsupported Content-Encoding {coding!r}", url=url)
        self._url = url
        self._cap = cap
        self._truncate = truncate
        self._inflater = _Inflater(coding) if coding not in ("", "identity") else None
        self._buf = bytearray()
        self.full = False

    def feed(self, chunk: bytes) -> bool:
        """Add raw bytes; return False once the body is complete (truncated at the cap)."""
        data = chunk
        while data and not self.full:
            room = self._cap - len(self._buf)
            if self._inflater is None:
                out, data = data[: room + 1], data[room + 1 :]
            else:
                out, data = self._decode(data, room + 1)
            self._append(out)
        return not self.full

    def finish(self) -> bytes:
        """Return the decoded body (the raw stream has ended)."""
        if self._inflater is not None and not self.full:
            self._append(self._decode_tail())
        return bytes(self._buf)

    def _decode(self, data: bytes, limit: int) -> tuple[bytes, bytes]:
        assert self._inflater is not None
        try:
            return self._inflater.inflate(data, limit)
        except zlib.error as exc:
            raise ConnectionFailed(f"corrupt compressed body: {exc}", url=self._url) from exc

    def _decode_tail(self) -> bytes:
        assert self._inflater is not None
        try:
            return self._inflater.flush()
        except zlib.error as exc:
            raise ConnectionFailed(f"corrupt compressed body: {exc}", url=self._url) from exc

    def _append(self, out: bytes) -> None:
        room = self._cap - len(self._buf)
        if len(out) <= room:
            self._buf += out
            return
        if not self._truncate:
            raise TooLarge(
                f"body exceeds the {self._cap}-byte cap (after decompression)", url=self._url
            )
        self._buf += out[:room]
        self.full = True
