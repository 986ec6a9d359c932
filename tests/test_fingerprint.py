"""The grouping rules of body fingerprints: which copies are one text, and how they are found.

``tests/test_store.py`` holds the precision cases through the store (follow-ups, shared
boilerplate, templated stories); here are the rules themselves and the copies cut short.
"""

from __future__ import annotations

from test_store import article, save, story, syndicated

from scraper.store import Store
from scraper.store.fingerprint import (
    SAME_TEXT,
    SIZE_RATIO,
    Fingerprint,
    Profile,
    band_keys,
    containment,
    resemblance,
    same_text,
    shingle_set,
    words,
)


def body(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def test_band_keys_are_the_ones_already_stored() -> None:
    """Stored keys must keep matching: these are the keys the index held before leads."""
    assert Fingerprint.of(body(story(3, 300))).band_keys[:4] == (
        -2657165429402062030,
        -6974075342207412103,
        -7675026320532810283,
        5978218328736575395,
    )
    short = "Kestrel Bay council approves the new harbour wall after a long debate."
    assert Fingerprint.of(short).band_keys[:3] == (
        -1316069103019154790,
        371463971690219559,
        4690127380765976660,
    )


def test_lead_keys_are_the_band_keys_of_the_first_half_of_the_words() -> None:
    text = body(story(4, 600))
    tokens = words(text)
    fingerprint = Fingerprint.of(text)
    assert fingerprint.lead_keys == band_keys(shingle_set(tokens[: len(tokens) // 2]))
    assert fingerprint.keys[: len(fingerprint.band_keys)] == fingerprint.band_keys
    assert set(fingerprint.keys) == set(fingerprint.band_keys) | set(fingerprint.lead_keys)
    assert len(fingerprint.keys) == len(set(fingerprint.keys))
    assert Fingerprint.of("").keys == ()


def test_a_copy_cut_to_its_first_half_is_the_same_text_and_meets_the_lead_keys() -> None:
    whole = story(5, 800)
    half = whole[:4]
    ours, theirs = Profile.of(body(whole)), Profile.of(body(half))
    assert resemblance(ours.shingles, theirs.shingles) < SAME_TEXT  # the rule before leads
    assert containment(ours.shingles, theirs.shingles) > 0.99
    assert same_text(ours, theirs) and same_text(theirs, ours)
    edited = Profile.of(syndicated(half, 7))  # a byline, a new first sentence, a few words
    assert same_text(ours, edited)
    lead = set(Fingerprint.of(body(whole)).lead_keys)
    assert len(lead & set(Fingerprint.of(body(half)).band_keys)) >= 10


def test_a_brief_quoted_whole_in_a_roundup_is_another_text() -> None:
    brief = body(story(6, 300))
    for others in (2, 3):
        roundup = "\n\n".join([brief, *(body(story(60 + n, 300)) for n in range(others))])
        ours, theirs = Profile.of(brief), Profile.of(roundup)
        assert containment(ours.shingles, theirs.shingles) == 1.0
        assert len(ours.shingles) < SIZE_RATIO * len(theirs.shingles)
        assert not same_text(ours, theirs)


def test_containment_takes_the_smaller_set() -> None:
    small, large = frozenset("ab"), frozenset("abcd")
    assert (containment(small, large), containment(large, small)) == (1.0, 1.0)
    assert resemblance(small, large) == 0.5
    assert containment(frozenset(), large) == 0.0


def test_sharing_half_of_a_text_is_not_the_same_text_whatever_the_sizes() -> None:
    base = story(8, 800)
    for cut in (8, 6, 4):  # the other text shares every other paragraph of base's first part
        other = story(9, 800)[:cut]
        other[::2] = base[:cut:2]
        assert not same_text(Profile.of(body(base[:cut])), Profile.of(body(other)))


def test_truncated_copies_join_their_story_in_either_order(store: Store) -> None:
    whole = story(10, 900)
    first = save(store, "https://a.example/whole", article(body(whole)))
    teaser = save(store, "https://b.example/teaser", article(syndicated(whole[:4], 3)), source="b")
    assert teaser.story_id == first.story_id
    other = story(11, 900)
    early = save(store, "https://b.example/excerpt", article(body(other[:4])), source="b")
    assert early.story_id != first.story_id
    late = save(store, "https://c.example/full", article(body(other)), source="c")
    assert late.story_id == early.story_id
    brief = body(story(12, 250))
    alone = save(store, "https://a.example/brief", article(brief))
    roundup = "\n\n".join([body(story(13, 250)), brief, body(story(14, 300))])
    listed = save(store, "https://c.example/roundup", article(roundup), source="c")
    assert len({first.story_id, early.story_id, alone.story_id, listed.story_id}) == 4
