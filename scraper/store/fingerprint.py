"""Body fingerprints for duplicate detection: exact hash, word shingles, MinHash bands.

The exact fingerprint (:func:`body_hash`) is the sha256 of the whitespace-normalized,
casefolded body; bodies shorter than ``SUBSTANTIAL_BODY`` characters (normalized) take
no part in duplicate detection at all.

A body is reduced to the set of its word ``SHINGLE_WORDS``-grams after Unicode (NFKC)
normalization and casefolding; punctuation, typographic quotes and whitespace never
count, only the ``\\w+`` words.  Its MinHash signature (``BANDS`` x ``ROWS`` minimums,
one-permutation hashing from one 64-bit digest per shingle) is cut into ``BANDS`` bands; each band
becomes one signed 64-bit key, indexed by the store.  Two bodies whose shingle sets have
Jaccard similarity ``s`` share at least one key with probability
``1 - (1 - s**ROWS) ** BANDS`` (s = 0.5: 0.996, s = 0.3: 0.42, s = 0.1: 0.002), so the
keys find candidates, and :func:`same_text` on the actual bodies decides: most of the
smaller text must be found in the larger one, which must not be much larger (a brief
quoted whole in a roundup is another article), and the figures they report must agree
(templated stories, such as results or earnings reports, differ in little but their
numbers).

A copy cut to its first part (a teaser, a syndicated excerpt) has a Jaccard similarity of
about its length share with the whole, too low for the keys to find it reliably (half:
0.93, half with a few edits: 0.5 to 0.8).  Each body therefore also has the band keys of
its lead, the first half of its words (:attr:`Fingerprint.lead_keys`): the same hashing
applied to fewer shingles, so the whole's lead keys meet a truncated copy's keys.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

SUBSTANTIAL_BODY = 300  # characters of normalized body before duplicate detection applies
SHINGLE_WORDS = 3
BANDS = 20
ROWS = 3
SAME_TEXT = 0.75  # share of the smaller body's shingles found in the larger: one text
SIZE_RATIO = 0.4  # the smaller body's shingles over the larger's, at least (half: ~0.5)
FIGURE_EDITS = 2  # numbers a copy may replace, or 1 in 5 if it has more
_HASHES = BANDS * ROWS
_BAND = struct.Struct(f"<B{ROWS}Q")
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")


def normalize(text: str) -> str:
    return " ".join(text.split()).casefold()


def body_hash(body: str) -> str:
    """sha256 hex of the whitespace-normalized, casefolded body (``articles.body_hash``)."""
    return hashlib.sha256(normalize(body).encode("utf-8")).hexdigest()


def is_substantial(body: str) -> bool:
    return len(normalize(body)) >= SUBSTANTIAL_BODY


@dataclass(frozen=True)
class Profile:
    """What two bodies are compared by: word shingles and the numbers they contain."""

    shingles: frozenset[str]
    figures: tuple[str, ...]  # words with a digit, sorted

    @classmethod
    def of(cls, body: str) -> Profile:
        tokens = words(body)
        figures = tuple(sorted(t for t in tokens if _DIGIT.search(t)))
        return cls(shingle_set(tokens), figures)


@dataclass(frozen=True)
class Fingerprint:
    """A body's profile, the band keys of its MinHash signature and those of its lead."""

    profile: Profile
    band_keys: tuple[int, ...]
    lead_keys: tuple[int, ...] = ()

    @classmethod
    def of(cls, body: str) -> Fingerprint:
        tokens = words(body)
        figures = tuple(sorted(t for t in tokens if _DIGIT.search(t)))
        half = len(tokens) // 2
        if half <= SHINGLE_WORDS:
            shingles, lead = shingle_set(tokens), shingle_set(tokens[:half])
        else:  # the lead's shingles are the first of the body's: each is hashed once
            grams = _grams(tokens)
            shingles, lead = frozenset(grams), frozenset(grams[: half - SHINGLE_WORDS + 1])
        hashes = {shingle: _hash(shingle) for shingle in shingles}
        lead_hashes = (hashes[s] if s in hashes else _hash(s) for s in lead)
        return cls(Profile(shingles, figures), _keys(hashes.values()), _keys(lead_hashes))

    @property
    def keys(self) -> tuple[int, ...]:
        """The body's and its lead's band keys, each once (what the index holds)."""
        return tuple(dict.fromkeys(self.band_keys + self.lead_keys))


def words(body: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", body).casefold())


def shingle_set(tokens: list[str]) -> frozenset[str]:
    """The distinct word n-grams of ``words(body)`` (the whole text when it has fewer)."""
    if len(tokens) <= SHINGLE_WORDS:
        return frozenset([" ".join(tokens)] if tokens else [])
    return frozenset(_grams(tokens))


def _grams(tokens: list[str]) -> list[str]:
    """The word n-grams in text order (for more than ``SHINGLE_WORDS`` tokens)."""
    return [" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)]


def band_keys(shingles: frozenset[str]) -> tuple[int, ...]:
    """One signed 64-bit key per band of the MinHash signature; () for no shingles.

    One-permutation MinHash: one 64-bit hash per shingle; its remainder picks one of
    ``BANDS * ROWS`` bins and the rest of it competes for that bin's minimum.  A bin no
    shingle fell into borrows the next filled bin's minimum (densification), so short
    texts still get comparable signatures.  One hash per shingle instead of one per
    shingle and row keeps the cost linear in the text.
    """
    return _keys(_hash(shingle) for shingle in shingles)


def _hash(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest())


def _keys(hashes: Iterable[int]) -> tuple[int, ...]:
    """The band keys of the signature of these shingle hashes (see :func:`band_keys`)."""
    signature: list[int | None] = [None] * _HASHES
    for value in hashes:
        bin_, rest = value % _HASHES, value // _HASHES
        current = signature[bin_]
        if current is None or rest < current:
            signature[bin_] = rest
    filled = [(i, v) for i, v in enumerate(signature) if v is not None]
    if not filled:
        return ()
    dense = [
        signature[i] if signature[i] is not None else _borrow(filled, i) for i in range(_HASHES)
    ]
    return tuple(
        _signed(_BAND.pack(band, *dense[band * ROWS : (band + 1) * ROWS])) for band in range(BANDS)
    )


def _borrow(filled: list[tuple[int, int]], index: int) -> int:
    """The minimum of the first filled bin after ``index`` (wrapping), tagged by distance."""
    for position, value in filled:
        if position > index:
            return value + (position - index) * _HASHES
    position, value = filled[0]
    return value + (position + _HASHES - index) * _HASHES


def _signed(data: bytes) -> int:
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def resemblance(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared shingles over the larger set: 1.0 for the same text, near 0 for unrelated ones.

    Unlike Jaccard it does not double-count an edit (a replaced sentence costs its
    shingles once), and unlike containment a short text inside a long one stays low.
    """
    larger = max(len(a), len(b))
    return len(a & b) / larger if larger else 0.0


def containment(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared shingles over the smaller set: 1.0 when one text is inside the other."""
    smaller = min(len(a), len(b))
    return len(a & b) / smaller if smaller else 0.0


def figures_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether at most a few numbers were replaced (added ones, as in a dateline, are fine)."""
    ours, theirs = Counter(a), Counter(b)
    changed = min((ours - theirs).total(), (theirs - ours).total())
    return changed <= max(FIGURE_EDITS, max(len(a), len(b)) // 5)


def same_text(a: Profile, b: Profile) -> bool:
    """Whether two bodies are one text, give or take a few edits, or cut short.

    ``SAME_TEXT`` of the smaller body's shingles must be in the larger one, and the
    smaller must be at least ``SIZE_RATIO`` of the larger: a copy cut to its first half
    (about 0.5) is the same text, a brief quoted whole in a roundup of three or more
    (a third or less) is not.  For bodies of one size this is the resemblance rule.
    """
    small, large = sorted((len(a.shingles), len(b.shingles)))
    return (
        small >= SIZE_RATIO * large
        and containment(a.shingles, b.shingles) >= SAME_TEXT
        and figures_agree(a.figures, b.figures)
    )
