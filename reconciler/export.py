"""The workspace as a config file: planning the export against the same workspace shows no
change."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.model import WorkspaceState

HEADER = (
    "# yaml-language-server: $schema=https://reconciler.dev/schemas/workspace.schema.json\n"
    "# Exported by reconciler from the workspace. Every link listed here is managed: a link\n"
    "# removed from this file is removed from the workspace on apply.\n"
)


def export_config(state: WorkspaceState) -> str:
    """Every channel (connected or not) with its links, as config YAML."""
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
    body = yaml.safe_dump(
        {"version": 1, "channels": channels},
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return HEADER + body
