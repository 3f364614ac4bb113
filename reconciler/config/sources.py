"""Config PATHs -> one workspace config: the files a team keeps its channels in.

Every command that reads a config takes one or more PATHs. A directory means its ``*.yaml``
and ``*.yml`` files, recursively, hidden entries (a name starting with ``.``) skipped, in
path order; a file is itself. The workspace config is the union of the files' channels, in
that order (one team or brand a file, owned through CODEOWNERS). Each file is checked by
itself (``check``: its problems at its own positions); across files, a channel declared in
two of them is an error at the second, naming the first (Terraform's "already declared at").

``load`` gives the desired state of all of them with each file's sha256, which a saved plan
records, each file named in one form (``normal_path``: the same file spelled two ways is one
file, in this checkout or another); ``check_paths`` gives each file's problems, for
``validate``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.config.files import decode, file_problem, read_bytes
from reconciler.config.text import check
from reconciler.config.wording import shown
from reconciler.config.yaml_nodes import Mapping, Scalar
from reconciler.config.yaml_nodes import Sequence as SequenceNode
from reconciler.config.yaml_strict import read
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.model import DesiredChannel, DesiredState, fold, visible

#: The suffixes of the config files of a directory (compared ignoring case).
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """One file of a config, and the sha256 of the bytes read from it; ``path`` in its
    normal form (``normal_path``)."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Loaded:
    """The desired state of a config's files, each with its sha256 (in path order)."""

    desired: DesiredState
    files: tuple[ConfigFile, ...]
    #: The PATHs as given (files and directories).
    paths: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """How messages name the config: its PATHs as given, space-separated."""
        return " ".join(self.paths)

    @property
    def sha256(self) -> str:
        """The config's digest: its file's sha256 when it is one file; else the sha256 of
        ``sha256  path`` lines, one a file (as ``sha256sum`` prints them)."""
        if len(self.files) == 1:
            return self.files[0].sha256
        lines = "".join(f"{f.sha256}  {f.path}\n" for f in self.files)
        return hashlib.sha256(lines.encode("utf-8", "surrogateescape")).hexdigest()

    @property
    def digests(self) -> dict[str, str]:
        """Each file's path and sha256 (what a saved plan records as ``config_files``)."""
        return {f.path: f.sha256 for f in self.files}


@dataclass(slots=True)
class Checked:
    """One file checked: its problems (positions in it), its digest when it could be read
    (None: it couldn't), and its desired state when it has no error. A directory that holds
    no config file is one too, never read."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    desired: DesiredState | None = None
    sha256: str | None = None
    text: str = ""


def normal_path(path: str) -> str:
    """``path`` in the one form config files are recorded and compared in: relative to the
    current directory when it is inside it (``configs/a.yaml`` however it was spelled:
    ``./configs/a.yaml``, ``configs//a.yaml``, ``x/../configs/a.yaml``, or absolute), so a
    plan made in one checkout matches another checkout of the same repository; else
    absolute. Lexical (``os.path.normpath``): a symbolic link is not followed."""
    try:
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute)
    except (OSError, ValueError):  # no current directory (removed), another drive
        return os.path.normpath(path)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute
    return relative


def config_files(path: str) -> list[str]:
    """The config files ``path`` names: itself when it is not a directory (reading it says
    what is wrong with it); a directory's ``*.yaml``/``*.yml`` files, recursively, hidden
    entries skipped, in path order. ``ConfigError`` for a directory with none, or with a
    symbolic link leading outside it."""
    if not os.path.isdir(path):
        return [path]
    found: list[tuple[tuple[str, ...], str]] = []
    # A symbolic link leading outside the directory is an error (a link to a directory was
    # skipped without a word, dropping its channels from the config; a link added in a pull
    # request must not make CI read the runner's files); one inside it names what the walk
    # reads anyway (a directory is not walked twice, nor in a loop; a file is read once).
    root = os.path.realpath(path)
    outside: list[Problem] = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for d in dirs:
            if os.path.islink(os.path.join(folder, d)):
                _inside(os.path.join(folder, d), root, outside)
        for name in names:
            full = Path(folder, name)
            if (
                not name.startswith(".")
                and name.lower().endswith(SUFFIXES)
                and (not full.is_symlink() or _inside(str(full), root, outside))
            ):
                found.append((full.relative_to(path).parts, str(full)))
    if outside:
        raise ConfigError(outside)
    if not found:
        raise ConfigError(
            [
                file_problem(
                    path,
                    "a directory with no *.yaml or *.yml file in it (hidden entries are skipped)",
                )
            ]
        )
    return [name for _, name in sorted(found)]


def _inside(entry: str, root: str, outside: list[Problem]) -> bool:
    """Whether ``entry`` of a config directory (real path ``root``) is in it once symbolic
    links are followed; if not, an error about it joins ``outside``."""
    real = os.path.realpath(entry)
    if os.path.commonpath([root, real]) == root:
        return True
    outside.append(
        file_problem(
            entry,
            f"a symbolic link to {real}, outside the directory: a config directory is read "
            "within itself (give the file as a PATH of its own if it is meant)",
        )
    )
    return False


def refuse_overwriting(out: str, paths: Sequence[str]) -> None:
    """Refuse (``ConfigError`` at ``out``) an output file that is one of the config files
    ``paths`` name (``plan teams --out teams/us.yaml`` would replace a team's config with
    the plan), however either is spelled; nothing is written."""
    for path in paths:
        try:
            files = config_files(path)
        except ConfigError:
            continue  # reading the config says what is wrong with it
        for name in files:
            with contextlib.suppress(OSError):  # out doesn't exist yet, or name doesn't
                if os.path.samefile(out, name):
                    message = (
                        "is a config file being read: --out would overwrite it; name another file"
                    )
                    raise ConfigError([file_problem(out, message)])


def check_paths(paths: Sequence[str]) -> list[Checked]:
    """Every file ``paths`` name, each checked by itself (``check``), then across files
    (a channel declared in two): all problems of all of them, nothing raised."""
    checked: list[Checked] = []
    seen: set[str] = set()
    for path in paths:
        try:
            files = config_files(path)
        except ConfigError as exc:
            checked.append(Checked(path=path, problems=list(exc.problems)))
            continue
        for name in files:
            key = os.path.realpath(name)
            if key in seen:
                continue  # named twice (a file and its directory): read once
            seen.add(key)
            try:
                data = read_bytes(name)
                text = decode(data, name)
            except ConfigError as exc:
                checked.append(Checked(path=name, problems=list(exc.problems)))
                continue
            desired, problems = check(text, name)
            checked.append(
                Checked(
                    path=name,
                    problems=problems,
                    desired=desired,
                    sha256=hashlib.sha256(data).hexdigest(),
                    text=text,
                )
            )
    _declared_twice(checked)
    return checked


def load(paths: Sequence[str]) -> Loaded:
    """The desired state of the config ``paths`` name, with each file's sha256; or
    ``ConfigError`` with every problem of every file when any has an error."""
    checked = check_paths(paths)
    problems = [p for c in checked for p in c.problems]
    if any(p.severity is Severity.ERROR for p in problems) or any(
        c.desired is None for c in checked
    ):
        raise ConfigError(problems)
    channels: list[DesiredChannel] = []
    for c in checked:
        assert c.desired is not None  # checked above
        channels.extend(c.desired.channels)
    files = tuple(ConfigFile(path=normal_path(c.path), sha256=c.sha256 or "") for c in checked)
    return Loaded(desired=DesiredState(channels=tuple(channels)), files=files, paths=tuple(paths))


def _declared_twice(checked: list[Checked]) -> None:
    """An error in each file that declares a channel an earlier file declares, at the
    account, naming where it was first declared."""
    first: dict[str, int] = {}  # each account (folded) and the file that declares it first
    twice: dict[int, list[tuple[str, int]]] = {}  # file -> (account, first file)
    for index, c in enumerate(checked):
        if c.desired is None:
            continue
        for channel in c.desired.channels:
            key = fold(channel.account)
            if key in first:
                twice.setdefault(index, []).append((key, first[key]))
            else:
                first[key] = index
    if not twice:
        return  # the common case: no file was read again for positions
    positions = {
        index: _account_positions(checked[index].text)
        for index in {i for i in twice} | {f for pairs in twice.values() for _, f in pairs}
    }
    for index, pairs in twice.items():
        c = checked[index]
        for key, earlier in pairs:
            account, line, col = positions[index][key]
            _, first_line, first_col = positions[earlier][key]
            where = f"{visible(checked[earlier].path)}:{first_line}:{first_col}"
            c.problems.append(
                Problem(
                    path=c.path,
                    line=line,
                    col=col,
                    severity=Severity.ERROR,
                    code="declared-twice",
                    message=f"channel {shown(account)} is already declared at {where}; "
                    "a channel is declared in one file only (accounts match ignoring case)",
                )
            )
        c.problems.sort(key=Problem.sort_key)
        c.desired = None


def _account_positions(text: str) -> dict[str, tuple[str, int, int]]:
    """Each account of a valid config text (folded), as written and at its line and column:
    the first declaration in the file (a file declares each once)."""
    root, _ = read(text)
    found: dict[str, tuple[str, int, int]] = {}
    channels = root.nodes.get("channels") if isinstance(root, Mapping) else None
    for channel in _nodes(channels):
        node = channel.nodes.get("account") if isinstance(channel, Mapping) else None
        if isinstance(node, Scalar) and isinstance(node.value, str):
            found.setdefault(fold(node.value), (node.value, node.line, node.col))
    return found


def _nodes(node: object) -> Iterable[object]:
    return node.nodes if isinstance(node, SequenceNode) else ()
