"""Config written back: the workspace as a config file (``export``: planning it against the
same workspace shows no change), and a desired state as plain config data (a saved plan's
``desired``), both in the form the checks read back to the same value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from reconciler.config.plain import is_text
from reconciler.config.rules import repeated_ignoring_case
from reconciler.errors import SelectionError
from reconciler.model import (
    REF_CHARACTERS,
    Channel,
    DesiredLink,
    DesiredState,
    WorkspaceState,
    fold,
    is_ref_text,
    visible,
)

HEADER = (
    "# yaml-language-server: $schema=https://reconciler.dev/schemas/workspace.schema.json\n"
    "# Exported by reconciler from the workspace. Every link listed here is managed: a link\n"
    "# removed from this file is removed from the workspace on apply.\n"
)


#: Characters YAML 1.1 reads as line breaks. PyYAML writes them raw inside plain and
#: single-quoted scalars, where reading folds them into spaces ("a\x85b" came back "a b").
_LINE_BREAKS = frozenset("\x85\u2028\u2029")


class _Dumper(yaml.SafeDumper):
    """SafeDumper whose strings always read back exactly as they were."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Double quotes escape every line break (\N, \L, \P), so nothing is folded on reading.
    # Single quotes for text another YAML reader would read as other than text (y, 0o17,
    # 1e3): PyYAML quotes only what its own YAML 1.1 resolvers would misread.
    style = '"' if _LINE_BREAKS.intersection(value) else None if is_text(value) else "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def export_config(state: WorkspaceState, accounts: Sequence[str] = ()) -> str:
    """Every channel (connected or not), or those of ``accounts`` (``SelectionError`` for
    one the workspace hasn't), with its links, as config YAML: channels in the workspace's
    order, links in creation order, ``ref`` only where a link has one."""
    return _export(select_channels(state, accounts))


def export_split(state: WorkspaceState, accounts: Sequence[str] = ()) -> dict[str, str]:
    """``export_config`` one file per channel (``export --split``): each file's name (the
    account, ``.yaml``; ``_`` before an account starting with ``.``, which a directory's
    reader would skip as hidden) and its text."""
    files: dict[str, str] = {}
    for channel in select_channels(state, accounts):
        name = ("_" if channel.account.startswith(".") else "") + channel.account + ".yaml"
        if any(fold(other) == fold(name) for other in files):
            raise SelectionError(
                f"channels {visible(channel.account)!r} and another differ only in case: "
                "they can't have a file each; export them with --channel one at a time"
            )
        files[name] = _export((channel,))
    return files


def select_channels(state: WorkspaceState, accounts: Sequence[str]) -> tuple[Channel, ...]:
    """The channels of ``state`` whose account is one of ``accounts`` (ignoring case), in
    the workspace's order; all of them when ``accounts`` is empty. ``SelectionError`` names
    an account the workspace hasn't, with those it has."""
    if not accounts:
        return state.channels
    missing = [account for account in accounts if state.channel(account) is None]
    if missing:
        have = ", ".join(repr(visible(c.account)) for c in state.channels) or "(none)"
        raise SelectionError(
            f"no channel {', '.join(repr(visible(a)) for a in missing)} in the workspace; "
            f"channels: {have}"
        )
    wanted = {fold(account) for account in accounts}
    return tuple(c for c in state.channels if fold(c.account) in wanted)


def _export(chosen: Sequence[Channel]) -> str:
    channels: list[dict[str, Any]] = []
    for channel in chosen:
        links = []
        for link in sorted(channel.links, key=lambda lk: lk.seq):
            entry: dict[str, Any] = {"title": link.title}
            if link.ref is not None:
                entry["ref"] = link.ref
            entry["message"] = link.message
            links.append(entry)
        item: dict[str, Any] = {"account": channel.account, "display_name": channel.display_name}
        if links:
            item["links"] = links
        channels.append(item)
    body = dump_yaml({"version": 1, "channels": channels})
    return HEADER + body


def dump_yaml(data: Any) -> str:
    """``data`` as block-style YAML, keys in their order, that reads back exactly."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def export_warnings(state: WorkspaceState, accounts: Sequence[str] = ()) -> list[str]:
    """What would keep the export (of ``accounts``' channels, or all) from validating as it
    is: links of one channel whose titles are the same ignoring case (the workspace allows
    it, the config does not), and refs TikTok doesn't support (made before its rule was the
    config's)."""
    warnings = []
    for channel in select_channels(state, accounts):
        titles = [link.title for link in sorted(channel.links, key=lambda lk: lk.seq)]
        for indexes in repeated_ignoring_case(titles).values():
            names = ", ".join(repr(visible(titles[index])) for index in indexes)
            warnings.append(
                f"warning: channel {visible(channel.account)} has links titled {names}: "
                "titles must differ ignoring case, so rename all but one in the export "
                "(or in SleekFlow) before planning with it"
            )
        for link in channel.links:
            if link.ref is not None and not is_ref_text(link.ref):
                warnings.append(
                    f"warning: channel {visible(channel.account)}, link "
                    f"{visible(link.title)!r}: ref {visible(link.ref)!r} breaks TikTok's rule "
                    f"(only {REF_CHARACTERS}): change it before planning with the export"
                )
    return warnings


def desired_to_dict(desired: DesiredState) -> dict[str, Any]:
    """``desired`` as plain data (the saved plan's ``desired``): every field, defaults and
    absent values (None) included, but for a link's ``renamed_from``, there only when it
    names a title."""
    return {
        "version": 1,
        "channels": [
            {
                "account": c.account,
                "display_name": c.display_name,
                "protect": c.protect,
                "remove": c.remove,
                "max_change_pct": c.max_change_pct,
                "prune": c.prune,
                "links": [_link_dict(lk) for lk in c.links],
            }
            for c in desired.channels
        ],
    }


def _link_dict(link: DesiredLink) -> dict[str, Any]:
    data: dict[str, Any] = {"title": link.title, "ref": link.ref, "message": link.message}
    if link.renamed_from:
        data["renamed_from"] = list(link.renamed_from)
    return data
