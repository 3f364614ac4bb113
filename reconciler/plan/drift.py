"""What differs from what a saved plan recorded, in words.

``describe_drift`` compares the declared state a saved plan recorded (``prior_state``) with
the same channels now, and says each field that differs, links named by title and id: the
lines of a ``StalePlan`` refusal. ``describe_config_difference`` compares the desired state a
plan recorded with a config's: the lines of an ``UnboundPlan`` refusal.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import DesiredChannel, DesiredState, fold, visible

#: An ``UnboundPlan`` refusal names at most this many differences.
MAX_DIFFERENCES = 20


def describe_config_difference(recorded: DesiredState, given: DesiredState) -> list[str]:
    """One line per difference between the desired state a plan ``recorded`` and the one a
    config ``given`` now has: channels and links only in one, fields that differ (``plan``
    is the recorded value, ``config`` the given one), and a changed order of links."""
    lines: list[str] = []
    old = {fold(c.account): c for c in recorded.channels}
    new = {fold(c.account): c for c in given.channels}
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is None or after is None:
            present = after or before
            assert present is not None
            where = "the config, not the plan" if before is None else "the plan, not the config"
            lines.append(f"{visible(present.account)}: declared in {where}")
        elif before != after:
            lines.extend(_channel_difference(before, after))
    order = [fold(c.account) for c in recorded.channels], [fold(c.account) for c in given.channels]
    if not lines and order[0] != order[1]:
        lines.append("the channels are declared in another order")
    shown = lines[:MAX_DIFFERENCES]
    if len(lines) > MAX_DIFFERENCES:
        shown.append(f"... and {len(lines) - MAX_DIFFERENCES} more")
    return shown or ["the desired states differ"]


def describe_file_difference(recorded: dict[str, str], given: dict[str, str]) -> list[str]:
    """One line per config file (path to sha256) added, removed or changed since a plan
    ``recorded`` them, as the config's PATHs ``given`` now name them."""
    added = [
        f"{visible(path)}: a config file the plan was not made from"
        for path in given
        if path not in recorded
    ]
    changed = [
        f"{visible(path)}: changed since the plan was made (its sha256 differs)"
        for path, digest in given.items()
        if path in recorded and recorded[path] != digest
    ]
    removed = [
        f"{visible(path)}: the plan was made from it, and it is not given now"
        for path in recorded
        if path not in given
    ]
    return added + changed + removed


def _channel_difference(before: DesiredChannel, after: DesiredChannel) -> list[str]:
    """The differences of one channel declared in both, in words."""
    account = visible(after.account)
    lines = [
        f"{account}: {name} is {getattr(before, name)!r} in the plan, "
        f"{getattr(after, name)!r} in the config"
        for name in ("account", "display_name", "protect", "remove", "max_change_pct", "prune")
        if getattr(before, name) != getattr(after, name)
    ]
    old = {fold(lk.title): lk for lk in before.links}
    new = {fold(lk.title): lk for lk in after.links}
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if was is None or now is None:
            present = now or was
            assert present is not None
            where = "the config, not the plan" if was is None else "the plan, not the config"
            lines.append(f"{account}: link {visible(present.title)!r} is in {where}")
            continue
        for name in ("title", "ref", "message", "renamed_from"):
            if getattr(was, name) != getattr(now, name):
                lines.append(
                    f"{account}: link {visible(now.title)!r} {name} is "
                    f"{visible(repr(getattr(was, name)))} in the plan, "
                    f"{visible(repr(getattr(now, name)))} in the config"
                )
    if not lines and before.links != after.links:
        lines.append(f"{account}: the links are declared in another order")
    return lines


def describe_drift(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per field that differs between two declared states (``prior_state`` of a
    saved plan, and the same channels now), links named by title and id, e.g.
    ``acmepets: link 'VIP Program' (id 4) message changed: 'a' -> 'b'``."""
    # Imported here: deepdiff takes a tenth of a second to import, and only a stale plan needs it.
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, ignore_order=False, view="tree")
    changes = [
        (report, [str(part) for part in level.path(output_format="list")], level)
        for report, levels in diff.items()
        for level in levels
    ]
    # A link's URL follows its ref and message: when either changed, the URL line says nothing new.
    regenerated = {
        tuple(path[:3])
        for _, path, _ in changes
        if len(path) == 4 and path[3] in ("ref", "message")
    }
    # A version moves with every change: said only when nothing else of its resource did.
    moved = {tuple(path[:-1]) for _, path, _ in changes if path and path[-1] != "version"}
    found: list[tuple[tuple[Any, ...], str]] = []
    for report, path, level in changes:
        if not path or (len(path) == 4 and path[3] == "url" and tuple(path[:3]) in regenerated):
            continue
        if path[-1] == "version" and tuple(path[:-1]) in moved:
            continue
        if len(path) == 2 and path[1] == "links" and isinstance(level.t1, dict):
            # DeepDiff reports {} -> {...} (or back) whole: say it link by link instead.
            old_links, new_links = level.t1, level.t2 if isinstance(level.t2, dict) else {}
            for link_id in sorted(set(old_links) ^ set(new_links)):
                kind = (
                    "dictionary_item_added" if link_id in new_links else "dictionary_item_removed"
                )
                found.append(_drift_line(kind, [*path, link_id], None, None, before, after))
            continue
        found.append(_drift_line(report, path, level.t1, level.t2, before, after))
    found.sort(key=lambda item: item[0])
    return [line for _, line in found] or ["the recorded state does not match the workspace"]


def _drift_line(
    report: str,
    path: list[str],
    old: Any,
    new: Any,
    before: dict[str, Any],
    after: dict[str, Any],
) -> tuple[tuple[Any, ...], str]:
    """The sort key and the line for one difference found at ``path``."""
    added = report == "dictionary_item_added" or (old is None and report == "type_changes")
    removed = report == "dictionary_item_removed" or (new is None and report == "type_changes")
    key = path[0]
    channel_before, channel_after = _get(before, key), _get(after, key)
    account = _get(channel_after, "account") or _get(channel_before, "account") or key
    if len(path) == 1:
        what = (
            "the channel was connected"
            if added
            else "the channel was removed"
            if removed
            else "the channel changed"
        )
        return (key, 0, 0, ""), f"{account}: {what}"
    if path[1] == "links" and len(path) >= 3:
        link_id = path[2]
        link = _get(_get(channel_before, "links"), link_id) or _get(
            _get(channel_after, "links"), link_id
        )
        title = _get(link, "title")
        label = f"link {title!r} (id {link_id})" if isinstance(title, str) else f"link {link_id}"
        order = (key, 2, int(link_id) if link_id.isdigit() else 0, link_id, *path[3:])
        if len(path) == 3:
            return order, f"{account}: {label} was {'added' if added else 'removed'}"
        field = ".".join(path[3:])
        return order, f"{account}: {label} {field} {_change(report, old, new)}"
    field = ".".join(path[1:])
    return (key, 1, 0, field), f"{account}: {field} {_change(report, old, new)}"


def _change(report: str, old: Any, new: Any) -> str:
    """How a value changed, in words: appeared, disappeared, or from ``old`` to ``new``."""
    if report == "dictionary_item_added":
        return f"appeared: {new!r}"
    if report == "dictionary_item_removed":
        return f"disappeared (was {old!r})"
    return f"changed: {old!r} -> {new!r}"


def _get(data: Any, key: str) -> Any:
    """``data[key]`` when ``data`` is a mapping that has it, else None."""
    return data.get(key) if isinstance(data, dict) else None
