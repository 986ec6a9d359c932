"""The cheap language guess used when a page's markup names no language."""

from __future__ import annotations

import pytest

from scraper.extract.language import guess_language

SAMPLES = {
    "en": "The council said that the plan was not ready and that it would be voted on in May.",
    "de": "Der Rat hat gesagt, dass der Plan nicht fertig ist und im Mai kommt.",
    "fr": "Le conseil a dit que le plan n'est pas prêt et qu'il sera voté en mai.",
    "es": "El consejo dijo que el plan no está listo y que se votará en mayo pronto.",
    "it": "Il consiglio ha detto che il piano non è pronto e che sarà votato presto.",
    "nl": "De raad zei dat het plan niet klaar is en dat er in mei over wordt gestemd .",
    "pl": "Rada powiedziała, że plan nie jest gotowy i że głosowanie odbędzie się w maju.",
    "ru": "Совет заявил, что план ещё не готов и что голосование пройдёт в мае.",
    "uk": "Рада заявила, що план ще не готовий і що голосування відбудеться у травні.",
    "ja": "市議会は計画がまだ準備できていないと述べ、五月に採決すると発表した。",
    "zh": "市议会表示该计划尚未准备好，将于五月进行表决。",
    "ko": "시의회는 계획이 아직 준비되지 않았으며 5월에 표결할 것이라고 밝혔다.",
    "el": "Το συμβούλιο δήλωσε ότι το σχέδιο δεν είναι έτοιμο και θα ψηφιστεί τον Μάιο.",
    "ar": "قال المجلس إن الخطة ليست جاهزة بعد وإنه سيتم التصويت عليها في مايو.",
}


@pytest.mark.parametrize(("code", "text"), sorted(SAMPLES.items()))
def test_guesses_the_language(code: str, text: str) -> None:
    assert guess_language(text * 2) == code


@pytest.mark.parametrize("text", ["", "12345 67890", "Kestrel Bay Harbour", "Mai Juni Juli"])
def test_too_little_evidence_gives_none(text: str) -> None:
    assert guess_language(text) is None
