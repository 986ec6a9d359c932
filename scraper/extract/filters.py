"""Drop blocks inside the content region that are page furniture, not article text.

Each test is about the block's own text: advertisement labels, date/time stamps and
bylines standing alone, and a repeat of the headline (or its kicker) at the top.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .blocks import Block
from .clean import text_key

__all__ = ["drop_furniture", "text_key"]

_AD_LABELS = frozenset(
    """advertisement advertisements advertising ad anzeige werbung reklam reklame reklama
    publicidad publicidade pubblicità publicité annonse annons annonce mainos hirdetés
    sponsored gesponsert реклама""".split()
)
_DATE_LIKE = re.compile(r"(?<![\d+])\d{1,2}[./:-]\s?\d{1,2}(?![\d%])|\b(?:19|20)\d{2}\b")
_BYLINE = re.compile(
    r"(?i)^(?:by|von|par|por|di|door|av|af|od|от|від|oleh|text:|texto:|testo:|fotos?:)\s"
)
_FULL_DATE = re.compile(
    r"\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b"
)
_COPYRIGHT = re.compile(r"(?i)[©ⓒ]|\(c\)\s|\bcopyright\b|all rights reserved")
# Unspaced scripts have no word count: their reprint notices are capped by characters.
_CJK_COPYRIGHT = re.compile(
    r"版权所有|版权均属|未经.{0,8}授权|不得转载|著作権|無断転載|저작권|무단.{0,4}재배포"
)
_MAX_CJK_NOTICE = 120
_MAX_NOTICE_WORDS = 30
_MAX_COUNTER = 12
_MAX_FULL_DATE_WORDS = 8
_MAX_STAMP_WORDS = 10
_MAX_BYLINE_WORDS = 6
_HEAD_BLOCKS = 4  # a headline repeat is only looked for among the first blocks
_SENTENCE_END = ".!?…。！？\"'»”)"


def drop_furniture(blocks: list[Block], headlines: Iterable[str] = ()) -> list[Block]:
    keys = [k for k in (text_key(h) for h in headlines) if len(k) >= 8]
    out: list[Block] = []
    for index, block in enumerate(blocks):
        if _is_furniture(block):
            continue
        if index < _HEAD_BLOCKS and keys and _repeats_headline(block.text, keys):
            continue
        out.append(block)
    return out


def _is_furniture(block: Block) -> bool:
    text = block.text
    if not text or block.kind not in ("p", "h"):
        return False
    if text.casefold().strip(" :.-") in _AD_LABELS:
        return True
    if len(text) <= _MAX_COUNTER and not any(ch.isalpha() for ch in text):
        return True  # a vote count, a page number, a "23" standing alone
    words = len(text.split())
    if words <= _MAX_NOTICE_WORDS and _COPYRIGHT.search(text):
        return True
    if len(text) <= _MAX_CJK_NOTICE and _CJK_COPYRIGHT.search(text):
        return True  # "声明：…版权均属…所有，未经书面授权…不得转载"
    if block.kind != "p":
        return False
    if words <= _MAX_FULL_DATE_WORDS and _FULL_DATE.search(text):
        return True  # "15.04.2026 - 15:48 Uhr Lesedauer: 2 Min."
    if text[-1] in _SENTENCE_END:
        return False
    if words <= _MAX_STAMP_WORDS and _DATE_LIKE.search(text):
        return True
    return words <= _MAX_BYLINE_WORDS and _BYLINE.match(text) is not None


def _repeats_headline(text: str, keys: list[str]) -> bool:
    key = text_key(text)
    if len(key) < 4:
        return False
    return any(key == k or key in k for k in keys)
