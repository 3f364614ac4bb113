"""The fast path may only accept what the full, positioned check accepts, with the same result."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import config
from reconciler.config.fast import fast_desired, read_plain
from reconciler.errors import ConfigError
from tests.helpers import EXAMPLE, FIXTURES


def agree(text: str) -> bool:
    """True when the fast path accepted ``text``; asserts the full check agrees."""
    fast = fast_desired(text)
    if fast is None:
        return False
    full, problems = config.check_full(text, "w.yaml")
    assert problems == []
    assert full == fast
    return True


def test_the_example_takes_the_fast_path() -> None:
    assert agree(EXAMPLE.read_text(encoding="utf-8"))


def test_every_bad_fixture_is_declined() -> None:
    for path in sorted((FIXTURES / "configs").glob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        accepted = agree(text)
        assert accepted == path.name.startswith("ok-"), path.name


def test_prune_and_renamed_from_take_the_fast_path_with_the_full_result() -> None:
    text = (
        "version: 1\nchannels:\n  - account: acme\n    display_name: Acme\n    prune: false\n"
        "    links:\n      - title: Ad - Cyber Monday\n        renamed_from: Ad - Black Friday\n"
        "        message: Cyber Monday deals!\n      - title: Bio\n"
        "        renamed_from: [Old bio, Older bio]\n        message: Hi\n"
    )
    assert agree(text)
    (channel,) = config.check(text, "w.yaml")[0].channels  # type: ignore[union-attr]
    assert channel.prune is False
    assert [link.renamed_from for link in channel.links] == [
        ("Ad - Black Friday",),
        ("Old bio", "Older bio"),
    ]
    # a conflict is the full check's to word: the fast path declines it
    assert fast_desired(text.replace("Old bio", "ad - black friday")) is None


def test_what_the_fast_path_declines() -> None:
    base = "version: 1\nchannels:\n  - account: acme\n    display_name: {}\n"
    assert read_plain(base.format("Acme")) is not None
    for odd in ("yes", "0x1f", "1_000", ".nan", "~", "2024-01-01", "! true", "!!int 3", "*a"):
        assert read_plain(base.format(odd)) is None, odd
    # text in one reader, not in the other: YAML 1.1's y/n, YAML 1.2's numbers; huge numbers
    for odd in ("y", "N", "0o17", "1e3", "12e03", "+.5", "089", "9" * 5000, "0x" + "f" * 5000):
        assert read_plain(base.format(odd)) is None, odd
    for text in ("campaign=spring", "=", "Nope", "1.2.3", "yesterday"):
        assert read_plain(base.format(text))["channels"][0]["display_name"] == text
    assert read_plain("a: 1\na: 2\n") is None  # duplicate key
    assert read_plain("<<: {a: 1}\n") is None  # merge key
    assert read_plain("a: &x 1\nb: *x\n") is None  # anchors and aliases
    assert read_plain("a: 1\n---\nb: 2\n") is None  # two documents
    assert read_plain("a: [1\n") is None  # a syntax error
    assert read_plain("") is None
    assert read_plain("[" * 100 + "]" * 100) is None  # deeper than MAX_DEPTH


#: Values the rules of issue 14 judge: text in one YAML reader but not the other, huge
#: numbers, refs of TikTok's characters and not, characters that show nothing, look-alikes.
_ISSUE_14 = [
    *("y", "n", "Y", "N", "yes", "off", "~", "null", "0o17", "0x1F", "1e3", "12e03", "+.5"),
    *(".inf", "1_000", "9" * 5000, "0x" + "f" * 5000, "-" + "9" * 4400, "1e" + "9" * 5000),
    *("campaign=spring", "bio.link", "=", "a" * 2083, "a" * 2080 + "=", "=" * 695),
    *("Hi\u200b there", "\u202eBio", "Bio\u2060", "\ufeffBio", "x\U000e0041"),
    *("\U0001f468\u200d\U0001f469", "VIP Program", "VIP Pr\u043egram", "Promo 1", "Promo l"),
    *("Cafe\u0301", "Caf\u00e9", "\u212b", "\u0301x"),  # not composed (NFC), and composed
]
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
) | st.sampled_from(
    ["yes", "No", "on", "1", "1.0", "0123", "~", "null", "true", "1e3", "x" * 101, *_ISSUE_14]
)
_link = st.dictionaries(st.sampled_from(["title", "ref", "message", "mesage"]), _text, max_size=3)
_channel = st.fixed_dictionaries(
    {"account": _text | st.sampled_from(["acme", "ACME", "a.b"]), "display_name": _text},
    optional={
        "links": st.lists(
            st.fixed_dictionaries(
                {"title": _text, "message": _text},
                optional={"ref": _text, "renamed_from": _text | st.lists(_text, max_size=3)},
            )
            | _link,
            max_size=4,
        ),
        "protect": st.booleans() | _text,
        "prune": st.booleans() | _text,
        "max_change_pct": st.integers(-1, 101) | st.floats(allow_nan=True),
    },
)
_document = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1.0, 2, "1"]), "channels": st.lists(_channel, max_size=3)}
)


@given(_document, st.sampled_from(["block", "flow", "plain-scalars"]))
@settings(max_examples=300, deadline=None)
def test_fast_and_full_checks_agree_on_generated_configs(data: dict, style: str) -> None:
    if style == "flow":
        text = yaml.safe_dump(data, default_flow_style=True, allow_unicode=True)
    elif style == "plain-scalars":
        # Values written unquoted where YAML allows, so YAML 1.1 resolution comes into play.
        text = yaml.safe_dump(data, allow_unicode=True, default_style=None)
        text = text.replace("'", "")
    else:
        text = yaml.safe_dump(data, allow_unicode=True)
    fast = fast_desired(text)
    # the fast path only ever accepts, and only what the full check accepts, with no warning
    assert fast is None or config.check_full(text, "w.yaml") == (fast, [])


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_fast_and_full_checks_agree_on_any_text(text: str) -> None:
    fast = fast_desired(text)
    assert fast is None or config.check_full(text, "w.yaml") == (fast, [])


# --- the rules the fast path shares with the full check (config.rules) ----------------------
# The fast path calls the same functions as the full check; these tests hold the two paths
# together on what those rules judge: titles and accounts alike ignoring case (casefold, so
# "ß" is "SS"), a ref used twice, and messages around the UTF-16 limit.

_names = st.sampled_from(
    [
        *("Bio", "BIO", "bio", "Straße", "STRASSE", "strasse", "Ad", "ad "),
        *("VIP Program", "VIP Pr\u043egram", "vip pr\u043egram", "Promo 1", "Promo l"),
        *("Bio\u200b", "\u202eBio", "Family \U0001f468\u200d\U0001f469"),
        *("Cafe\u0301", "Caf\u00e9"),
    ]
)
_accounts = st.sampled_from(["acme", "ACME", "Acme", "shop", "shop_2", "SHOP_2"])
_refs = st.none() | st.sampled_from(
    ["bio", "BIO", "fb_ad", "x", "a=b", "a" * 2083, "a" * 2080 + "=", "a" * 2081 + "=", "=" * 695]
)
_messages = st.sampled_from(
    [
        *("hi", "a" * 250, "a" * 251, "a" * 500, "a" * 501, "😀" * 250, "😀" * 250 + "a"),
        "é" * 501,
        "Hi\u200b there",
        "Hi \U0001f468\u200d\U0001f469",
        "\u2067x",
        "\U0001f3f4\U000e0067\U000e007f",
    ]
)
_rule_link = st.builds(
    lambda title, ref, message, renamed: (
        {"title": title, "message": message}
        | ({} if ref is None else {"ref": ref})
        | ({} if renamed is None else {"renamed_from": renamed})
    ),
    _names,
    _refs,
    _messages,
    # renamed_from (issue 15): a title or a list; names another link's title, or one that
    # another link claims too, or a title with a character that shows nothing
    st.none() | _names | st.lists(_names, min_size=1, max_size=2),
)
_rule_document = st.builds(
    lambda channels: {"version": 1, "channels": channels},
    st.lists(
        st.builds(
            lambda account, links, prune: (
                {"account": account, "display_name": "D", "links": links}
                | ({} if prune is None else {"prune": prune})
            ),
            _accounts,
            st.lists(_rule_link, max_size=4),
            st.none() | st.booleans(),
        ),
        max_size=3,
    ),
)


@given(_rule_document)
@settings(max_examples=300, deadline=None)
def test_fast_and_full_paths_agree_on_the_shared_rules(data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    fast = fast_desired(text)
    full = config.check_full(text, "w.yaml")
    # Same verdict: the fast path accepts exactly the texts the full check finds nothing in
    # (these texts hold nothing else it would decline), and then with the same desired state.
    assert (fast is not None) == (full[1] == []), full[1]
    if fast is not None:
        assert full == (fast, [])
    assert config.check(text, "w.yaml") == full


def test_check_and_check_full_give_the_same_result_for_every_fixture() -> None:
    for path in sorted([*(FIXTURES / "configs").glob("*.yaml"), EXAMPLE]):
        try:
            text = config.read_text(path)
        except ConfigError:
            continue  # not UTF-8, or refused before reading: neither path sees it
        assert config.check(text, str(path)) == config.check_full(text, str(path)), path.name


def test_a_control_character_is_declined_where_the_full_check_refuses_it() -> None:
    head = "version: 1\nchannels:\n  - account: acme\n    display_name: {name}\n    links:\n"
    link = "      - title: {title}\n        message: {message}\n"
    for escape in ("\\0", "\\t", "\\n", "\\r", "\\e", "\\x7f", "\\x85", "\\x9b"):
        for where in ("name", "title", "message"):
            values = {"name": "Acme", "title": "Bio", "message": "Hi"} | {
                where: f'"{where}{escape}x"'
            }
            text = head.format(name=values["name"]) + link.format(**values)
            _, problems = config.check_full(text, "w.yaml")
            refused = any(p.code == "control-character" for p in problems)
            # a message keeps its tabs and line breaks; nothing else holds a control
            assert refused == (where != "message" or escape not in ("\\t", "\\n", "\\r", "\\x85"))
            assert agree(text) == (not problems), (escape, where)
