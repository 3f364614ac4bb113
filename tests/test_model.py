"""The URL rule (section 3 of DESIGN) and the small model helpers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import (
    ACCOUNT_PATTERN,
    REF_LIMIT,
    Channel,
    DesiredLink,
    Link,
    WorkspaceState,
    code_point,
    control_characters,
    fold,
    invisible,
    is_account,
    is_bidi,
    is_ref_text,
    link_url,
    parse_link_url,
    ref_length,
    utf16_len,
    visible,
)

# --- link_url: exact examples -----------------------------------------------------------------


def test_the_design_example_url() -> None:
    assert (
        link_url("businessname", "summer2025", "Join our VIP program")
        == "https://tiktok.me/businessname?ref=summer2025&message=Join%20our%20VIP%20program"
    )


def test_ref_is_left_out_when_absent() -> None:
    assert link_url("acmepets", None, "Hi") == "https://tiktok.me/acmepets?message=Hi"


def test_space_is_percent_20_never_plus() -> None:
    url = link_url("acmepets", "a b", "a b+c")
    assert url == "https://tiktok.me/acmepets?ref=a%20b&message=a%20b%2Bc"
    assert "+" not in url


def test_sub_delims_are_encoded_too() -> None:
    assert (
        link_url("acmepets", None, "!'()*") == "https://tiktok.me/acmepets?message=%21%27%28%29%2A"
    )


def test_only_unreserved_characters_stay_as_they_are() -> None:
    unreserved = "AZaz09-._~"
    assert link_url("acmepets", unreserved, unreserved) == (
        f"https://tiktok.me/acmepets?ref={unreserved}&message={unreserved}"
    )


def test_query_delimiters_are_encoded() -> None:
    assert link_url("acmepets", "a&b=c", "#x?y/z%") == (
        "https://tiktok.me/acmepets?ref=a%26b%3Dc&message=%23x%3Fy%2Fz%25"
    )


def test_utf8_bytes_with_uppercase_hex() -> None:
    assert link_url("acmepets", None, "é😀\n") == (
        "https://tiktok.me/acmepets?message=%C3%A9%F0%9F%98%80%0A"
    )


def test_account_keeps_its_spelling() -> None:
    assert link_url("Acme.Pets_1", None, "x") == "https://tiktok.me/Acme.Pets_1?message=x"


# --- parse_link_url ---------------------------------------------------------------------------


def test_parse_the_design_example() -> None:
    url = "https://tiktok.me/businessname?ref=summer2025&message=Join%20our%20VIP%20program"
    assert parse_link_url(url) == ("businessname", "summer2025", "Join our VIP program")


def test_parse_without_ref_gives_none() -> None:
    assert parse_link_url("https://tiktok.me/acmepets?message=Hi") == ("acmepets", None, "Hi")


def test_parse_keeps_an_encoded_plus() -> None:
    assert parse_link_url("https://tiktok.me/a1?message=1%2B1") == ("a1", None, "1+1")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/acmepets?message=Hi",
        "http://tiktok.me/acmepets?message=Hi",
        "https://tiktok.me/acmepets?ref=x",
        "https://tiktok.me/acmepets",
    ],
)
def test_parse_refuses_what_is_not_a_message_link(url: str) -> None:
    with pytest.raises(ValueError, match="not a message link"):
        parse_link_url(url)


ACCOUNTS = st.from_regex(ACCOUNT_PATTERN, fullmatch=True)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
TRICKY = st.text(alphabet="&=#%+ \n\r?/;é😀!'()*~", max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    account=ACCOUNTS,
    ref=st.none() | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1),
    message=TEXT | TRICKY,
)
def test_parse_is_the_inverse_of_link_url(account: str, ref: str | None, message: str) -> None:
    url = link_url(account, ref, message)
    assert url.startswith(f"https://tiktok.me/{account}?")
    assert "+" not in url and " " not in url
    assert parse_link_url(url) == (account, ref, message)


@settings(max_examples=100, deadline=None)
@given(account=ACCOUNTS, message=TEXT)
def test_url_is_ascii_and_hex_is_uppercase(account: str, message: str) -> None:
    url = link_url(account, None, message)
    assert url.isascii()
    query = url.split("?", 1)[1]
    for i, char in enumerate(query):
        if char == "%":
            assert query[i + 1 : i + 3] == query[i + 1 : i + 3].upper()


# --- accounts, folding, the workspace lookup --------------------------------------------------


@pytest.mark.parametrize("account", ["ab", "acme.pets", "A_1", "x" * 24, "a.b_c.d"])
def test_valid_accounts(account: str) -> None:
    assert is_account(account)


@pytest.mark.parametrize(
    "account", ["a", "x" * 25, "acme.", "acme pets", "acme-pets", "acme\n", "", "ácme"]
)
def test_invalid_accounts(account: str) -> None:
    assert not is_account(account)


def test_account_pattern_refuses_a_trailing_newline_with_re_match() -> None:
    import re

    # The CLI checks with re.match: Python's '$' would accept "acme\n".
    assert re.match(ACCOUNT_PATTERN, "acme\n") is None
    assert re.match(ACCOUNT_PATTERN, "acme") is not None


def test_fold_ignores_case_the_unicode_way() -> None:
    assert fold("AcmePets") == fold("acmepets")
    assert fold("Straße") == fold("STRASSE")


def test_workspace_channel_matches_ignoring_case() -> None:
    channel = Channel("1", "AcmePets", "Acme")
    state = WorkspaceState((channel,))
    assert state.channel("acmepets") is channel
    assert state.channel("ACMEPETS") is channel
    assert state.channel("other") is None


def test_values_are_frozen() -> None:
    desired = DesiredLink("t", "m")
    stored = Link("1", "t", None, "m", "https://tiktok.me/a?message=m", seq=1)
    # AttributeError: a NamedTuple's, or a frozen dataclass's FrozenInstanceError.
    with pytest.raises(AttributeError):
        desired.title = "u"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        stored.url = "https://example.com"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        WorkspaceState().channels = ()  # type: ignore[misc]


def test_visible_escapes_what_a_terminal_would_act_on() -> None:
    assert visible("a\tb\nc\rd") == "a\\tb\\nc\\rd"
    assert visible("\x1b[31mred\x9b\x7f\x00") == "\\u001b[31mred\\u009b\\u007f\\u0000"
    assert visible("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert visible("lone \ud800") == "lone \\ud800"
    assert visible("plain é 😀 & | `x`") == "plain é 😀 & | `x`"


#: One of each kind of character that shows nothing, and its escape.
SHOW_NOTHING = {
    "\u200b": "\\u200b",  # ZERO WIDTH SPACE
    "\u2060": "\\u2060",  # WORD JOINER
    "\ufeff": "\\ufeff",  # BYTE ORDER MARK
    "\u00ad": "\\u00ad",  # SOFT HYPHEN
    "\u200d": "\\u200d",  # ZERO WIDTH JOINER, outside an emoji sequence
    "\u200c": "\\u200c",  # ZERO WIDTH NON-JOINER, between Latin letters
    "\u202e": "\\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2067": "\\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\U000e0041": "\\U000e0041",  # TAG LATIN CAPITAL LETTER A, outside a tag sequence
}


@pytest.mark.parametrize("char", sorted(SHOW_NOTHING))
def test_a_character_that_shows_nothing_is_reported_and_escaped(char: str) -> None:
    text = f"Hi{char} there"
    assert invisible(text) == [(2, char)]
    assert visible(text) == f"Hi{SHOW_NOTHING[char]} there"
    assert visible(text) != visible("Hi there")  # a regeneration never prints as no change


def test_characters_in_use_are_neither_reported_nor_escaped() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # a joiner inside an emoji sequence
    health = "\U0001f469\U0001f3fd\u200d\u2695\ufe0f"  # skin tone, joiner, symbol, VS16
    england = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # a non-joiner in Persian
    for text in (family, health, england, persian):
        assert invisible(text) == [], text
        assert visible(text) == text
    # a tag sequence without its black flag, or without its cancel tag, is hidden text
    assert invisible("x\U000e0067\U000e007f") != []
    assert invisible("\U0001f3f4\U000e0067") != []


def test_bidi_controls_are_told_apart() -> None:
    assert all(is_bidi(c) for c in "\u061c\u200e\u200f\u202a\u202e\u2066\u2069")
    assert not any(is_bidi(c) for c in "\u200b\ufeffa")


# --- the ref rule: TikTok's -------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["bio_link", "campaign=spring", "fb-ad-may2025", "=", "A9"])
def test_refs_of_tiktoks_characters(ref: str) -> None:
    assert is_ref_text(ref)


@pytest.mark.parametrize("ref", ["bio.link", "", "a b", "émoji", "a+b", "ref\n", "#tag", "a/b"])
def test_refs_with_other_characters(ref: str) -> None:
    assert not is_ref_text(ref)


def test_an_equals_sign_is_percent_encoded_3d_in_the_url() -> None:
    url = link_url("acme", "campaign=spring", "Hi")
    assert url == "https://tiktok.me/acme?ref=campaign%3Dspring&message=Hi"
    assert parse_link_url(url) == ("acme", "campaign=spring", "Hi")
    assert ref_length("campaign=spring") == len("campaign%3Dspring") == 17


def test_the_ref_limit_is_counted_percent_encoded() -> None:
    assert REF_LIMIT == 2083
    assert ref_length("a" * 2083) == 2083
    assert ref_length("a" * 2080 + "=") == 2083
    assert ref_length("a" * 2081 + "=") == 2084


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_visible_output_is_one_printable_line(text: str) -> None:
    out = visible(text)
    out.encode("utf-8")
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\x9b" not in out
    assert invisible(out) == []  # nothing is left hidden
    assert "##[" not in out  # a GitHub Actions workflow command, in a CI log


def test_visible_breaks_a_workflow_command_and_leaves_other_brackets() -> None:
    assert visible("x ##[add-mask]https") == "x ##\\u005badd-mask]https"
    assert visible("###[a] #[b] [c] ## [d]") == "###\\u005ba] #[b] [c] ## [d]"


@given(st.text())
@settings(max_examples=500)
def test_percent_encode_is_exactly_quote_with_nothing_safe(value: str) -> None:
    from urllib.parse import quote

    from reconciler.model import percent_encode

    try:
        expected = quote(value, safe="")
    except UnicodeEncodeError:  # a lone surrogate: neither can encode it
        with pytest.raises(UnicodeEncodeError):
            percent_encode(value)
        return
    assert percent_encode(value) == expected


def test_utf16_len_counts_code_units() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("日本") == 2
    assert utf16_len("😀") == 2
    assert utf16_len("👩‍👩‍👧") == 8


def test_control_characters_are_c0_c1_and_del_but_a_message_s_line_breaks() -> None:
    every = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
    text = "".join(every)
    assert control_characters(text) == list(enumerate(every))
    kept = {"\t", "\n", "\r", "\x85"}  # a message's tabs and line breaks
    found = control_characters(text, message=True)
    assert [c for _, c in found] == [c for c in every if c not in kept]
    assert control_characters("Hi 👋\u200b\u202e ok") == []  # not controls: invisible()
    assert code_point("\x00") == "U+0000 CONTROL"
