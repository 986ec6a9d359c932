"""decode_html: BOM, HTTP charset, <meta> prescan, strict UTF-8, then a guess."""

from __future__ import annotations

import codecs

import pytest

from scraper.extract import decode_html, extract
from scraper.extract.decode import charset_from_content_type, codec_for_label, utf8_payload

RUSSIAN = "Москва и Пекин провели учения противоракетной обороны"
JAPANESE = "東京女子医大元理事長を逮捕、大学に不正に支払わせた疑い"


def page(body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"
    )


def test_windows_1251_declared_only_in_meta_tag() -> None:
    html = page(RUSSIAN, '<meta charset="windows-1251">').encode("cp1251")
    assert RUSSIAN in decode_html(html)


def test_windows_1251_declared_by_http_equiv() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    html = page(RUSSIAN, head).encode("cp1251")
    assert RUSSIAN in decode_html(html)


def test_shift_jis_from_header() -> None:
    html = page(JAPANESE).encode("shift_jis")
    assert JAPANESE in decode_html(html, "text/html; charset=Shift_JIS")


def test_shift_jis_from_meta() -> None:
    html = page(JAPANESE, '<meta charset="shift_jis">').encode("shift_jis")
    assert JAPANESE in decode_html(html)


def test_header_wins_over_meta() -> None:
    html = page(RUSSIAN, '<meta charset="iso-8859-5">').encode("cp1251")
    assert RUSSIAN in decode_html(html, "text/html; charset=windows-1251")


def test_lying_latin1_header_on_utf8_bytes_reads_utf8() -> None:
    html = page("Grüße aus Köln – ein Bericht").encode("utf-8")
    text = decode_html(html, "text/html; charset=ISO-8859-1")
    assert "Grüße aus Köln – ein Bericht" in text
    assert "Ã" not in text


def test_latin1_label_means_windows_1252() -> None:
    html = page("“quoted” – dash").encode("cp1252")
    assert "“quoted” – dash" in decode_html(html, "text/html; charset=latin-1")


def test_lying_header_naming_a_codec_that_fails_falls_through() -> None:
    html = page(JAPANESE, '<meta charset="utf-8">').encode("utf-8")
    # the header claims shift_jis, but the bytes are not valid Shift_JIS: use the meta
    assert JAPANESE in decode_html(html, "text/html; charset=shift_jis")


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_bom_wins_over_everything(bom: bytes, codec: str) -> None:
    html = bom + page(RUSSIAN, '<meta charset="windows-1251">').encode(codec)
    text = decode_html(html, "text/html; charset=iso-8859-1")
    assert RUSSIAN in text
    assert not text.startswith("\ufeff")


def test_undeclared_utf8() -> None:
    assert RUSSIAN in decode_html(page(RUSSIAN).encode("utf-8"))


def test_undeclared_legacy_bytes_are_guessed() -> None:
    text = " ".join([RUSSIAN] * 20)
    decoded = decode_html(page(text).encode("cp1251"))
    assert RUSSIAN in decoded


def test_charset_parameter_parsing() -> None:
    assert charset_from_content_type('text/html; charset="UTF-8"') == "UTF-8"
    assert charset_from_content_type("text/html") is None
    assert charset_from_content_type(None) is None


def test_whatwg_label_mapping() -> None:
    assert codec_for_label("ISO-8859-1") == "cp1252"
    assert codec_for_label("us-ascii") == "cp1252"
    assert codec_for_label("gb2312") == "gbk"
    assert codec_for_label("x-no-such-charset") is None


def test_utf8_payload_agrees_with_decode_html() -> None:
    utf8 = page(RUSSIAN).encode("utf-8")
    assert utf8_payload(utf8) == utf8
    assert utf8_payload(codecs.BOM_UTF8 + utf8) == utf8
    assert utf8_payload(page(RUSSIAN, '<meta charset="windows-1251">').encode("cp1251")) is None
    assert utf8_payload(utf8, "text/html; charset=iso-8859-1") == utf8


def test_extract_decodes_bytes_with_the_header() -> None:
    html = page(RUSSIAN * 3, "").encode("cp1251")
    article = extract(
        html, "https://example.ru/a", headers={"content-type": "text/html; charset=windows-1251"}
    )
    assert RUSSIAN in article.body
