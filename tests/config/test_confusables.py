"""Look-alike titles: UTS #39's skeleton over Unicode's confusables.txt, and the warnings."""

from __future__ import annotations

from reconciler import config
from reconciler.config.confusables import (
    ASCII_EXPANDED,
    ASCII_ONE_TO_ONE,
    look_alike_keys,
    prototype,
    prototypes,
    skeleton,
)
from reconciler.config.rules import look_alike_titles

CYRILLIC_O = "\u043e"


def test_the_data_is_unicodes_file_whole() -> None:
    table = prototypes()
    assert len(table) > 6000
    assert table[ord(CYRILLIC_O)] == "o"
    assert table[ord("\u0430")] == "a"  # CYRILLIC SMALL LETTER A
    assert table[ord("m")] == "rn"


def test_the_ascii_fast_tables_are_the_datas_ascii_entries() -> None:
    ascii_entries = {chr(code): target for code, target in prototypes().items() if code < 128}
    one_to_one = {
        chr(code): chr(ASCII_ONE_TO_ONE[code])
        for code in range(128)
        if ASCII_ONE_TO_ONE[code] != code
    }
    expanded = {source.decode(): target.decode() for source, target in ASCII_EXPANDED}
    assert one_to_one | expanded == ascii_entries


def test_skeletons_of_look_alikes_are_equal() -> None:
    assert skeleton("VIP Program") == skeleton(f"VIP Pr{CYRILLIC_O}gram")
    assert skeleton("paypal") == skeleton("p\u0430yp\u0430l")
    assert skeleton("Promo 1") == skeleton("Promo l") == skeleton("Promo I")
    assert skeleton("Sale") != skeleton("Sole")
    # the ASCII shortcut is the same function as the general one
    for text in ("modern", 'say "hi"', "100% off", "`a`|I0"):
        general = "".join(prototypes().get(ord(c), c) for c in text)
        assert skeleton(text) == general


def test_titles_look_alike_as_spelled_and_ignoring_case() -> None:
    assert look_alike_keys("VIP PROGRAM")[1] == look_alike_keys(f"vip pr{CYRILLIC_O}gram")[1]
    assert look_alike_titles(["VIP Program", f"VIP Pr{CYRILLIC_O}gram", "Other"]) == [[0, 1]]
    assert look_alike_titles(["VIP PROGRAM", f"vip pr{CYRILLIC_O}gram"]) == [[0, 1]]
    assert look_alike_titles(["Promo I", "Promo l"]) == [[0, 1]]
    # the same title ignoring case is a duplicate (an error of its own), not a look-alike
    assert look_alike_titles(["Bio", "BIO"]) == []
    assert look_alike_titles(["Sale", "Sole", "Bio"]) == []
    # a title with the separator of the fast comparison falls back to the exact one
    assert look_alike_titles(["a\nb", "c", "a\nb\u200b"]) == []


def test_the_cyrillic_story_warns_at_the_second_title() -> None:
    text = (
        "version: 1\nchannels:\n  - account: acme\n    display_name: Acme\n    links:\n"
        "      - {title: VIP Program, message: Join}\n"
        f"      - {{title: VIP Pr{CYRILLIC_O}gram, message: Join us}}\n"
    )
    state, problems = config.check(text, "w.yaml")
    assert state is not None  # a warning: the file is valid
    assert [(p.line, p.col, p.code) for p in problems] == [(7, 17, "look-alike-title")]
    assert "U+043E CYRILLIC SMALL LETTER O for U+006F LATIN SMALL LETTER O" in problems[0].message


def test_a_prototype_looked_up_is_the_one_of_the_whole_table() -> None:
    table = prototypes()
    for code in [*table][:: max(1, len(table) // 500)]:
        assert prototype(chr(code)) == table[code]
    assert prototype("a") == "a" and prototype("\u043e") == "o" and prototype("m") == "rn"
