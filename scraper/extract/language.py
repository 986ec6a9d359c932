"""A cheap language guess for pages whose markup names none.

Writing systems settle most non-Latin languages at once; Latin-script text is matched
against each language's most frequent function words.  Language-identification
libraries were measured first: py3langid peaks at 137 MiB and langdetect at 75 MiB of
resident memory (against about 6 MiB for the whole extractor), so this small table is
used instead.  It answers None rather than guess from too little evidence.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["guess_language"]

_SAMPLE_CHARS = 3000
_MIN_HITS = 4  # function words needed before a Latin-script guess
_WORD = re.compile(r"[^\W\d_]+")

_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "en": "the and of to in is that for with was on are as by this be from have it not",
        "de": "der die und das ist nicht mit den von zu sich des auf für ein eine dem im auch",
        "fr": "le la les et des est une du que dans pour qui pas sur au avec sont ce il par",
        "es": "el la los las y que en del se por con una para es al como su más pero fue",
        "it": "il di che la è per una sono della non con del le gli nel alla anche più si",
        "pt": "o a os as que de do da em um uma para com não por é mais dos das foi ao",
        "nl": "de het een en van is dat op te zijn niet met voor in die ook er aan bij",
        "pl": "i w na nie się z że do to jest jak o po od za przez są ale dla tak",
        "sv": "och att det som en på är av för med den till har inte om ett var men",
        "da": "og at det som en på er af for med den til har ikke om et var men de",
        "no": "og at det som en på er av for med den til har ikke om et var men jeg",
        "fi": "ja on että ei se oli hän mutta kuin myös ovat tai jo sen ole mukaan",
        "tr": "ve bir bu da de için ile olarak çok daha gibi en ama ne kadar olan",
        "cs": "a se na je že v to s z do o jako by ale jsou jeho pro tak byl",
        "ro": "și de la în a cu o că pe nu din se mai care un ca pentru fost",
        "hu": "a az és hogy nem is egy meg van volt de csak már el azt ez mint",
        "id": "yang dan di dari ini itu dengan untuk tidak dalam akan pada juga ke",
    }.items()
}

_CODES_BY_WORD: dict[str, tuple[str, ...]] = {}
for _code, _table in _FUNCTION_WORDS.items():
    for _word in _table:
        _CODES_BY_WORD[_word] = (*_CODES_BY_WORD.get(_word, ()), _code)
_NON_LATIN = re.compile("[\u0250-\U0010ffff]")

# (first code point, last code point, language) for scripts that name a language
_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x3040, 0x30FF, "ja"),  # hiragana, katakana
    (0xAC00, 0xD7AF, "ko"),  # hangul syllables
    (0x4E00, 0x9FFF, "zh"),  # CJK ideographs (Japanese text also has kana)
    (0x0400, 0x04FF, "ru"),  # Cyrillic, refined below
    (0x0370, 0x03FF, "el"),
    (0x0590, 0x05FF, "he"),
    (0x0600, 0x06FF, "ar"),  # Arabic script, refined below
    (0x0900, 0x097F, "hi"),
    (0x0E00, 0x0E7F, "th"),
    (0x0980, 0x09FF, "bn"),
    (0x0B80, 0x0BFF, "ta"),
    (0x10A0, 0x10FF, "ka"),
    (0x0530, 0x058F, "hy"),
)


def guess_language(text: str) -> str | None:
    """An ISO 639-1 code for ``text``, or None when the evidence is too thin."""
    sample = text[:_SAMPLE_CHARS]
    by_script = _script_language(sample)
    if by_script is not None:
        return by_script
    counts = dict.fromkeys(_FUNCTION_WORDS, 0)
    for word in _WORD.findall(sample):
        for code in _CODES_BY_WORD.get(word.casefold(), ()):
            counts[code] += 1
    hits = Counter(counts)
    ranked = hits.most_common(2)
    if not ranked or ranked[0][1] < _MIN_HITS:
        return None
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _script_language(sample: str) -> str | None:
    if _NON_LATIN.search(sample) is None:  # the common case, without a loop over characters
        return None
    counts: Counter[str] = Counter()
    latin = 0
    for char in sample:
        point = ord(char)
        if point < 0x0250:
            latin += char.isalpha()
            continue
        for first, last, code in _SCRIPTS:
            if first <= point <= last:
                counts[code] += 1
                break
    if not counts:
        return None
    code, count = counts.most_common(1)[0]
    if count < latin:
        return None
    if code == "zh" and counts["ja"] > count / 10:
        return "ja"
    if code == "ru":
        return _cyrillic(sample)
    if code == "ar" and sum(sample.count(c) for c in "پچگژ") > count / 100:
        return "fa"
    return code


def _cyrillic(sample: str) -> str:
    lower = sample.casefold()
    if any(c in lower for c in "їєґ") or lower.count("і") > lower.count("ы"):
        return "uk"
    if lower.count("ъ") > lower.count("ы") and "ы" not in lower:
        return "bg"
    if any(c in lower for c in "ђћџљњ"):
        return "sr"
    return "ru"
