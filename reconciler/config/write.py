"""Config written back: the workspace as a config file (``export``: planning it against the
same workspace shows no change), and a desired state as plain config data (a saved plan's
``desired``), both in the form the checks read back to the same value."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.config.plain import is_text
from reconciler.config.rules import repeated_ignoring_case
from reconciler.model import (
    REF_CHARACTERS,
    DesiredLink,
    DesiredState,
    WorkspaceState,
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


def export_config(state: WorkspaceState) -> str:
    """Every channel (connected or not) with its links, as config YAML: channels in the
    workspace's order, links in creation order, ``ref`` only where a link has one."""
    channels: list[dict[str, Any]] = []
    for channel in state.channels:
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


def export_warnings(state: WorkspaceState) -> list[str]:
    """What would keep the export from validating as it is: links of one channel whose
    titles are the same ignoring case (the workspace allows it, the config does not), and
    refs TikTok doesn't support (made before its rule was the config's)."""
    warnings = []
    for channel in state.channels:
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
