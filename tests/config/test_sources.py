"""Several files, one config (issue 15): a directory is its *.yaml and *.yml files,
recursively, hidden entries skipped, in path order; the union of their channels is one
desired state; a channel declared in two files is one error naming both positions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reconciler import config
from reconciler.config.sources import config_files, normal_path
from reconciler.errors import ConfigError
from tests.helpers import located

HEAD = "version: 1\nchannels:\n"


def channel(account: str, *titles: str) -> str:
    links = "".join(f"      - title: {t}\n        message: Hi {t}\n" for t in titles)
    return f"  - account: {account}\n    display_name: {account.title()}\n" + (
        f"    links:\n{links}" if links else ""
    )


def team(tmp_path: Path) -> Path:
    """Three files of one workspace, in a tree with hidden entries and other files."""
    root = tmp_path / "teams"
    (root / "brands" / "eu").mkdir(parents=True)
    (root / ".github").mkdir()
    (root / "us.yaml").write_text(HEAD + channel("acmepets", "Bio", "VIP"), encoding="utf-8")
    (root / "brands" / "eu" / "de.yml").write_text(
        HEAD + channel("acme.de", "Bio"), encoding="utf-8"
    )
    (root / "brands" / "global.YAML").write_text(
        HEAD + channel("acme.global", "Promo") + channel("acme.jp"), encoding="utf-8"
    )
    # neither is read: a hidden directory, a hidden file, a file of another kind
    (root / ".github" / "x.yaml").write_text("not: [valid", encoding="utf-8")
    (root / ".draft.yaml").write_text("not: [valid", encoding="utf-8")
    (root / "README.md").write_text("# teams\n", encoding="utf-8")
    return root


def test_a_directory_is_its_yaml_files_in_path_order_hidden_entries_skipped(
    tmp_path: Path,
) -> None:
    root = team(tmp_path)
    assert config_files(str(root)) == [
        str(root / "brands" / "eu" / "de.yml"),
        str(root / "brands" / "global.YAML"),
        str(root / "us.yaml"),
    ]
    assert config_files(str(root / "us.yaml")) == [str(root / "us.yaml")]


def test_links_inside_a_directory_are_read_once_and_links_outside_it_refused(
    tmp_path: Path,
) -> None:
    """A symbolic link to a directory outside was skipped without a word (its channels fell
    out of the config: a plan of "No changes" while a team's edits were ignored), though a
    link to a file was read, wherever it led. Now a link leading outside the directory is an
    error (a link added in a pull request can't make CI read the runner's files); one inside
    it names what the walk reads anyway, once (a loop is no loop)."""
    root = team(tmp_path)
    (root / "linked").symlink_to(root / "brands" / "eu")  # the same files again
    (root / "brands" / "loop").symlink_to(root)
    assert config_files(str(root)) == [
        str(root / "brands" / "eu" / "de.yml"),
        str(root / "brands" / "global.YAML"),
        str(root / "us.yaml"),
    ]
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    (elsewhere / "shop.yaml").write_text(HEAD + channel("shop", "Bio"), encoding="utf-8")
    (root / "shared").symlink_to(elsewhere)
    (root / "brands" / "shop.yaml").symlink_to(elsewhere / "shop.yaml")
    with pytest.raises(ConfigError) as refused:
        config.load_paths([str(root)])
    rest = (
        ", outside the directory: a config directory is read within itself (give the file as "
        "a PATH of its own if it is meant)"
    )
    assert sorted((p.path, p.line, p.message) for p in refused.value.problems) == [
        (str(root / "brands" / "shop.yaml"), None, f"a symbolic link to {elsewhere}/shop.yaml"
         f"{rest}"),
        (str(root / "shared"), None, f"a symbolic link to {elsewhere}{rest}"),
    ]
    given = config.load_paths([str(root / "us.yaml"), str(root / "brands" / "shop.yaml")])
    assert [c.account for c in given.desired.channels] == ["acmepets", "shop"]


def test_three_files_are_the_same_desired_state_as_one_file_of_their_union(
    tmp_path: Path,
) -> None:
    root = team(tmp_path)
    union = tmp_path / "all.yaml"
    union.write_text(
        HEAD
        + channel("acme.de", "Bio")
        + channel("acme.global", "Promo")
        + channel("acme.jp")
        + channel("acmepets", "Bio", "VIP"),
        encoding="utf-8",
    )
    loaded = config.load_paths([str(root)])
    assert loaded.desired == config.load(union)
    assert config.load(root) == loaded.desired
    assert [f.path for f in loaded.files] == config_files(str(root))
    for f in loaded.files:
        assert f.sha256 == hashlib.sha256(Path(f.path).read_bytes()).hexdigest()
    # one file's digest is its bytes'; several files' is the digest of their sha256sum lines
    assert config.load_paths([str(union)]).sha256 == hashlib.sha256(union.read_bytes()).hexdigest()
    lines = "".join(f"{f.sha256}  {f.path}\n" for f in loaded.files)
    assert loaded.sha256 == hashlib.sha256(lines.encode()).hexdigest()
    assert loaded.name == str(root)


def test_paths_are_read_in_the_order_given_and_a_file_named_twice_once(tmp_path: Path) -> None:
    root = team(tmp_path)
    us = str(root / "us.yaml")
    loaded = config.load_paths([us, str(root)])
    assert [f.path for f in loaded.files] == [
        us,
        str(root / "brands" / "eu" / "de.yml"),
        str(root / "brands" / "global.YAML"),
    ]
    assert [c.account for c in loaded.desired.channels] == [
        "acmepets",
        "acme.de",
        "acme.global",
        "acme.jp",
    ]


def test_a_channel_in_two_files_is_one_error_naming_both_positions(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text(HEAD + channel("shop") + channel("acmepets", "Bio"), encoding="utf-8")
    second.write_text(HEAD + channel("zoo") + channel("AcmePets", "VIP"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load_paths([str(tmp_path)])
    (problem,) = info.value.problems
    assert problem.code == "declared-twice"
    assert str(problem) == (
        f"{second}:5:14: channel 'AcmePets' is already declared at {first}:5:14; a channel "
        "is declared in one file only (accounts match ignoring case)"
    )
    # validate's view: the error is the second file's, the first file is fine
    checked = config.check_paths([str(first), str(second)])
    assert [(c.path, [located(p) for p in c.problems]) for c in checked] == [
        (str(first), []),
        (
            str(second),
            [
                f"5:14: channel 'AcmePets' is already declared at {first}:5:14; a channel is "
                "declared in one file only (accounts match ignoring case)"
            ],
        ),
    ]


def test_every_other_error_keeps_its_own_files_position(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    bad = tmp_path / "b.yaml"
    good.write_text(HEAD + channel("acmepets", "Bio"), encoding="utf-8")
    bad.write_text(HEAD + channel("shop", "Bio", "BIO"), encoding="utf-8")
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        config.load_paths([str(good), str(bad), str(missing)])
    assert [str(p) for p in info.value.problems] == [
        f"{bad}:8:16: title 'BIO' is used twice in this channel (first at line 6); "
        "titles match ignoring case",
        f"{missing}: no such file",
    ]


def test_a_directory_without_a_config_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty" / ".hidden").mkdir(parents=True)
    (tmp_path / "empty" / ".hidden" / "a.yaml").write_text(HEAD, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load_paths([str(tmp_path / "empty")])
    assert str(info.value) == (
        f"{tmp_path / 'empty'}: a directory with no *.yaml or *.yml file in it "
        "(hidden entries are skipped)"
    )


def test_a_path_has_one_normal_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "repo"
    (inside / "configs").mkdir(parents=True)
    monkeypatch.chdir(inside)
    for spelling in (
        "configs/a.yaml",
        "./configs/a.yaml",
        "configs//a.yaml",
        "configs/./a.yaml",
        "x/../configs/a.yaml",
        str(inside / "configs" / "a.yaml"),
        f"{tmp_path}/repo/../repo/configs/a.yaml",
    ):
        assert normal_path(spelling) == "configs/a.yaml", spelling
    assert normal_path("configs/") == "configs"
    assert normal_path("../elsewhere/a.yaml") == str(tmp_path / "elsewhere" / "a.yaml")
    assert normal_path(str(tmp_path / "b.yaml")) == str(tmp_path / "b.yaml")


def test_loaded_files_are_named_in_the_normal_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = team(tmp_path)
    monkeypatch.chdir(tmp_path)
    spelled = [config.load_paths([s]) for s in (f"./{root.name}/", str(root), root.name)]
    assert {tuple(f.path for f in loaded.files) for loaded in spelled} == {
        tuple(str(Path(name).relative_to(tmp_path)) for name in config_files(str(root)))
    }
    assert len({loaded.sha256 for loaded in spelled}) == 1  # several files: paths in it too
