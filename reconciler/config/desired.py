"""Config data that passed every check -> ``DesiredState``: the defaults filled in, nothing
judged (the checks have run)."""

from __future__ import annotations

from typing import Any

from reconciler.model import DEFAULT_MAX_CHANGE_PCT, DesiredChannel, DesiredLink, DesiredState


def desired_state(data: dict[str, Any]) -> DesiredState:
    """The desired state of checked config data (the top-level mapping)."""
    return DesiredState(
        channels=tuple(desired_channel(ch, desired_links(ch)) for ch in data["channels"])
    )


def desired_links(ch: dict[str, Any]) -> tuple[DesiredLink, ...]:
    """The desired links of checked channel data ``ch``, in file order."""
    # One expression a link, no call of our own: this runs 100,000 times for a large file.
    return tuple(
        DesiredLink(lk["title"], lk["message"], lk.get("ref"))
        if (old := lk.get("renamed_from")) is None
        else DesiredLink(
            title=lk["title"],
            message=lk["message"],
            ref=lk.get("ref"),
            renamed_from=renamed_titles(old),
        )
        for lk in ch.get("links", ())
    )


def renamed_titles(value: str | list[str]) -> tuple[str, ...]:
    """A checked ``renamed_from`` (a title, or a list of them) as a tuple of titles."""
    return (value,) if isinstance(value, str) else tuple(value)


def desired_channel(ch: dict[str, Any], links: tuple[DesiredLink, ...]) -> DesiredChannel:
    """The desired channel of checked channel data ``ch``, with its ``links``."""
    return DesiredChannel(
        account=ch["account"],
        display_name=ch.get("display_name"),
        links=links,
        protect=ch.get("protect", False),
        remove=ch.get("remove", False),
        max_change_pct=float(ch.get("max_change_pct", DEFAULT_MAX_CHANGE_PCT)),
        prune=ch.get("prune", True),
    )
