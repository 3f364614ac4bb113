"""The strict YAML reader: positions, plain-scalar resolution, and refusing unsafe YAML."""

from __future__ import annotations

import datetime
import gc
import json
import time

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config import yaml_strict
from reconciler.config.positions import line_col
from reconciler.config.yaml_events import MAX_DEPTH
from reconciler.config.yaml_nodes import Mapping, Scalar, Sequence
from reconciler.config.yaml_strict import read


def root_of(text: str) -> Mapping:
    root, problems = read(text)
    assert problems == []
    assert isinstance(root, Mapping)
    return root


def problems_of(text: str) -> list[tuple[int, int, str, str]]:
    _, problems = read(text)
    return [(p.line, p.col, p.code, p.message) for p in problems]


# --- positions -----------------------------------------------------------------------------


def test_keys_and_values_carry_one_based_line_and_column() -> None:
    root = root_of("a: 1\nlist:\n  - x\n  - {k: v}\n")
    assert (root.line, root.col) == (1, 1)
    assert (root.keys["a"].line, root.keys["a"].col) == (1, 1)
    value = root.nodes["a"]
    assert isinstance(value, Scalar) and (value.line, value.col) == (1, 4)
    items = root.nodes["list"]
    assert isinstance(items, Sequence)
    assert [(n.line, n.col) for n in items.nodes] == [(3, 5), (4, 5)]
    inner = items.nodes[1]
    assert isinstance(inner, Mapping)
    assert (inner.keys["k"].line, inner.keys["k"].col) == (4, 6)
    assert (inner.nodes["k"].line, inner.nodes["k"].col) == (4, 9)


def test_columns_count_characters_not_utf8_bytes() -> None:
    # libyaml reads UTF-8 bytes; its columns must still be characters, or every error after a
    # non-ASCII character on the line would point to the wrong place.
    root = root_of('"日本語": [a, 😀, 日本, b]\nカナ: 値\ncafé: "é" # ü\nx: ok\n')
    seq = root.nodes["日本語"]
    assert isinstance(seq, Sequence)
    assert [n.col for n in seq.nodes] == [9, 12, 15, 19]
    assert (root.nodes["カナ"].line, root.nodes["カナ"].col) == (2, 5)
    assert (root.nodes["café"].line, root.nodes["café"].col) == (3, 7)
    assert (root.nodes["x"].line, root.nodes["x"].col) == (4, 4)


def test_errors_after_non_ascii_on_the_same_line_point_at_the_right_character() -> None:
    assert problems_of("x: [日本, 😀]]\n") == [
        (
            1,
            11,
            "yaml-syntax",
            "YAML syntax error: while parsing a block mapping: did not find expected key",
        )
    ]
    assert problems_of("y: [😀, *missing]\n") == [
        (1, 8, "alias", "alias *missing refers to no anchor")
    ]
    assert problems_of("a: 😀 \t: x\n") == [
        (1, 7, "yaml-syntax", "YAML syntax error: mapping values are not allowed in this context")
    ]


def test_control_character_position_counts_characters_after_multibyte_text() -> None:
    # libyaml reports this one as a byte offset; the reader turns it into line and column.
    assert problems_of('x: "日本"\ny: 日本\x07\n') == [
        (
            2,
            6,
            "yaml-syntax",
            "YAML syntax error: control characters are not allowed (found U+0007); "
            "remove it, or write it as an escape in a double-quoted string",
        )
    ]


def test_crlf_line_endings_keep_positions() -> None:
    root = root_of("a: 1\r\nb: two\r\n")
    assert (root.nodes["b"].line, root.nodes["b"].col) == (2, 4)
    assert root.value == {"a": 1, "b": "two"}


def test_unicode_line_separators_do_not_shift_positions() -> None:
    # libyaml starts a new line at U+2028, U+2029 and U+0085; an editor doesn't, so positions
    # after one must still count from the editor's line start.
    _, problems = read('a: "x\u2028y\u2029"\nb: "\x85"\nc: [*q]\n')
    assert [(p.line, p.col, p.code) for p in problems] == [(3, 5, "alias")]
    _, problems = read('a: "😀\u2028"\nb: [1\n')
    assert [(p.line, p.col) for p in problems] == [(3, 1)]
    assert "(started at line 2, column 4)" in problems[0].message


def test_cr_only_line_endings_count_as_lines() -> None:
    assert problems_of("a: 1\rb: *q\r")[0][:2] == (2, 4)
    assert problems_of("a: 1\rb: \x07\r")[0][:2] == (2, 4)


def test_line_col_counts_characters_and_every_editor_line_break() -> None:
    assert line_col("") == (1, 1)
    assert line_col("日本😀") == (1, 4)
    assert line_col("a\r\nb\rc\nd\u2028e") == (4, 4)


# --- plain scalars resolve like YAML 1.1 and remember it ------------------------------------


def test_plain_scalars_resolve_as_yaml_1_1() -> None:
    root = root_of(
        "b: yes\nn: no\no: 0123\ni: 12\nf: 1.5\nz: ~\ne:\nd: 2025-06-01\ns: text\n"
        "bad_date: 2025-13-45\n"
    )
    assert root.value == {
        "b": True,
        "n": False,
        "o": 83,
        "i": 12,
        "f": 1.5,
        "z": None,
        "e": None,
        "d": datetime.date(2025, 6, 1),
        "s": "text",
        "bad_date": "2025-13-45",
    }
    assert all(node.plain for node in root.nodes.values() if isinstance(node, Scalar))
    assert root.nodes["o"].raw == "0123"


def test_quoted_and_str_tagged_scalars_stay_strings() -> None:
    root = root_of("a: \"yes\"\nb: '0123'\nc: !!str 12\ne: |\n  yes\n")
    assert root.value == {"a": "yes", "b": "0123", "c": "12", "e": "yes\n"}
    assert not any(node.plain for node in root.nodes.values() if isinstance(node, Scalar))


def test_non_specific_tag_resolves_like_pyyaml() -> None:
    # libyaml marks "! true" as plain-implicit, so PyYAML's loaders read a boolean; we agree.
    assert root_of("d: ! true\n").value == {"d": True}


def test_merge_and_value_indicators_as_values_are_plain_text() -> None:
    assert root_of("a: <<\nb: =\n").value == {"a": "<<", "b": "="}


def test_resolving_scalars_keeps_no_memory_between_reads() -> None:
    for _ in range(50):
        read("a: [1, 2.5, yes, 2025-01-01, ~]\n")
    assert yaml_strict._CONSTRUCTOR.constructed_objects == {}


# --- what the reader refuses ----------------------------------------------------------------


def test_duplicate_key_keeps_the_first_and_names_it() -> None:
    root, problems = read("a: 1\nb: 2\na: 3\n")
    assert [(p.line, p.col, p.code, p.message) for p in problems] == [
        (3, 1, "duplicate-key", "duplicate key 'a' (first at line 1, column 1)")
    ]
    assert isinstance(root, Mapping) and root.value == {"a": 1, "b": 2}


def test_duplicate_key_in_flow_mapping() -> None:
    assert problems_of("x: {a: 1, a: 2}\n") == [
        (1, 11, "duplicate-key", "duplicate key 'a' (first at line 1, column 5)")
    ]


def test_keys_that_differ_only_by_quoting_are_duplicates() -> None:
    assert [p[2] for p in problems_of("a: 1\n'a': 2\n")] == ["duplicate-key"]


def test_merge_key_is_refused_and_not_merged() -> None:
    root, problems = read("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n")
    assert [(p.line, p.col, p.message) for p in problems] == [
        (3, 3, "merge keys (<<) are not supported: write the keys out")
    ]
    assert isinstance(root, Mapping) and root.value["c"] == {"y": 2}


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert root_of('"<<": 1\n').value == {"<<": 1}


def test_python_and_custom_tags_are_refused_and_never_constructed() -> None:
    root, problems = read(
        "a: !!python/object/apply:os.system ['false']\n"
        "b: !!python/name:os.system ''\n"
        "c: !local x\n"
        "d: !!set {x: null}\n"
    )
    assert [(p.line, p.col, p.code) for p in problems] == [
        (1, 4, "tag"),
        (2, 4, "tag"),
        (3, 4, "tag"),
        (4, 4, "tag"),
    ]
    assert problems[0].message == (
        "tag '!!python/object/apply:os.system' is not allowed: only plain YAML data "
        "(quote the value instead)"
    )
    assert isinstance(root, Mapping)
    assert root.value == {"a": ["false"], "b": "", "c": "x", "d": {"x": None}}


def test_non_string_keys_are_refused_with_how_they_were_read() -> None:
    assert problems_of("1: a\nyes: b\n~: c\n2025-01-01: d\n") == [
        (1, 1, "key-type", "key '1' is read as a number: quote it"),
        (2, 1, "key-type", "key 'yes' is read as a boolean: quote it"),
        (3, 1, "key-type", "key '~' is read as a null: quote it"),
        (4, 1, "key-type", "key '2025-01-01' is read as a date: quote it"),
    ]


def test_collection_keys_are_refused() -> None:
    assert problems_of("? [a]\n: 1\n{b: c}: 2\n") == [
        (1, 3, "key-type", "a key must be a plain string"),
        (3, 1, "key-type", "a key must be a plain string"),
    ]


def test_aliases_within_bounds_are_shared_values() -> None:
    root = root_of("a: &x [1, 2]\nb: *x\n")
    assert root.value == {"a": [1, 2], "b": [1, 2]}
    assert root.value["a"] is root.value["b"]
    # the alias is a node of its own, at its own position, sharing the anchor's nodes
    a, b = root.nodes["a"], root.nodes["b"]
    assert (a.line, a.col, b.line, b.col) == (1, 4, 2, 4)
    assert a.nodes is b.nodes


def test_undefined_alias_stops_reading() -> None:
    root, problems = read("a: *nowhere\nb: 1\n")
    assert root is None
    assert [(p.line, p.col, p.message) for p in problems] == [
        (1, 4, "alias *nowhere refers to no anchor")
    ]


def test_alias_to_itself_is_undefined() -> None:
    _, problems = read("a: &x [*x]\n")
    assert [p.code for p in problems] == ["alias"]


def billion_laughs(levels: int) -> str:
    lines = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_stops_fast_at_the_expansion_bound() -> None:
    text = billion_laughs(30)
    start = time.perf_counter()
    root, problems = read(text)
    elapsed = time.perf_counter() - start
    assert root is None
    assert [(p.line, p.col, p.code) for p in problems] == [(6, 12, "alias-expansion")]
    assert elapsed < 1.0


def test_expansion_just_under_the_bound_is_fine() -> None:
    root, problems = read(billion_laughs(5))  # 9**4 * 10 aliased nodes: well under 100,000
    assert problems == []
    assert root is not None


def test_deep_nesting_stops_before_the_python_stack_does() -> None:
    for text in (
        "a: " + "{a: " * 500 + "1" + "}" * 500,
        "- " * 3000 + "x\n",
        "".join("  " * i + "a:\n" for i in range(2000)) + "  " * 2000 + "b\n",
    ):
        root, problems = read(text)
        assert root is None
        assert [p.message for p in problems] == ["lists and mappings nest more than 64 levels deep"]


def test_nesting_at_the_bound_is_fine() -> None:
    depth = MAX_DEPTH
    root, problems = read("[" * depth + "]" * depth)
    assert problems == []
    assert root is not None


def test_second_document_is_refused() -> None:
    root, problems = read("a: 1\n---\nb: 2\n")
    assert [(p.line, p.col, p.code) for p in problems] == [(2, 1, "multiple-documents")]
    assert isinstance(root, Mapping) and root.value == {"a": 1}


def test_explicit_single_document_is_fine() -> None:
    assert root_of("---\na: 1\n...\n").value == {"a": 1}


def test_empty_and_comment_only_text_has_no_root_and_no_problem() -> None:
    assert read("") == (None, [])
    assert read("# just a comment\n\n") == (None, [])


def test_syntax_error_names_where_the_construct_started() -> None:
    assert problems_of("a: [1, 2\nb: 3\n") == [
        (
            2,
            2,
            "yaml-syntax",
            "YAML syntax error: while parsing a flow sequence (started at line 1, column 4): "
            "did not find expected ',' or ']'",
        )
    ]


def test_syntax_error_on_one_line_gives_no_redundant_start() -> None:
    assert problems_of("a: b: c\n") == [
        (1, 5, "yaml-syntax", "YAML syntax error: mapping values are not allowed in this context")
    ]


def test_tab_indentation_is_a_syntax_error_that_names_the_tab() -> None:
    assert problems_of("a:\n\tb: 1\n") == [
        (
            2,
            1,
            "yaml-syntax",
            "YAML syntax error: while scanning for the next token: found character that cannot "
            "start any token (a tab: YAML indents with spaces only)",
        )
    ]


def test_lone_surrogate_is_a_problem_not_an_exception() -> None:
    root, problems = read("a: 1\nb: \ud800\n")
    assert root is None
    assert [(p.line, p.col, p.message) for p in problems] == [
        (2, 4, "the text holds a lone surrogate character")
    ]


def test_garbage_collector_is_restored_after_success_and_failure() -> None:
    assert gc.isenabled()
    read("a: 1\n")
    assert gc.isenabled()
    read("a: *missing\n")
    read("a: [\n")
    read(billion_laughs(30))
    assert gc.isenabled()


# --- property: the reader never raises -------------------------------------------------------

yaml_ish = st.text(
    alphabet=st.sampled_from(list("ab:-[]{}&*!?|>'\"#%@`,\n\t 0~<.é😀\x07")), max_size=80
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), yaml_ish))
def test_read_never_raises_and_positions_are_one_based(text: str) -> None:
    root, problems = read(text)
    for problem in problems:
        assert problem.line >= 1 and problem.col >= 1
        assert problem.message
    if root is not None and not problems:
        assert isinstance(root, Scalar | Mapping | Sequence)


printable = st.characters(categories=("L", "N", "S", "Pd", "Zs"))
plain_data = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=20),
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(plain_data, st.sampled_from([False, True, None]), st.booleans())
def test_reader_agrees_with_pyyaml_on_plain_data(
    data: object, flow: bool | None, uni: bool
) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=uni)
    root, problems = read(text)
    assert problems == []
    assert root is not None
    assert root.value == yaml.safe_load(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(printable, min_size=1, max_size=8), st.text(printable, max_size=8)),
        min_size=1,
        max_size=5,
        unique_by=lambda kv: kv[0],
    )
)
def test_value_columns_count_characters_for_any_text(pairs: list[tuple[str, str]]) -> None:
    lines = [
        f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in pairs
    ]
    root = root_of("\n".join(lines) + "\n")
    for number, (key, value) in enumerate(pairs, start=1):
        node = root.nodes[key]
        assert (node.line, node.col, node.value) == (
            number,
            len(json.dumps(key, ensure_ascii=False)) + 3,
            value,
        )
