"""Saved plans: the JSON plan plus what it was made from, so ``apply --plan`` can prove that
the workspace hasn't moved since the plan was reviewed.

A saved plan records the desired state, the config's sha256, and the prior state of the
channels the config declares (like Terraform's). On apply the workspace is read again; if its
fingerprint differs, a deepdiff of the recorded state against the current one names each
field that moved, and nothing is applied.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import PlanError
from reconciler.model import DesiredChannel, DesiredLink, DesiredState, WorkspaceState
from reconciler.plan import Plan, declared_state, fingerprint

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedPlan:
    desired: DesiredState
    config_sha256: str | None
    state_fingerprint: str
    prior_state: dict[str, Any]
    forced: bool
    changes: list[dict[str, Any]]


def to_dict(plan: Plan, desired: DesiredState, actual: WorkspaceState) -> dict[str, Any]:
    """The saved form of ``plan``: the JSON plan plus ``desired``, ``prior_state``, ``forced``."""
    data = plan.to_dict()
    data["forced"] = plan.forced
    data["desired"] = desired_to_dict(desired)
    data["prior_state"] = declared_state(desired, actual)
    return data


def desired_to_dict(desired: DesiredState) -> dict[str, Any]:
    return {
        "version": 1,
        "channels": [
            {
                "account": c.account,
                "display_name": c.display_name,
                "protect": c.protect,
                "remove": c.remove,
                "max_change_pct": c.max_change_pct,
                "links": [
                    {"title": lk.title, "ref": lk.ref, "message": lk.message} for lk in c.links
                ],
            }
            for c in desired.channels
        ],
    }


def load(path: str | Path) -> SavedPlan:
    """Read a saved plan, or raise ``PlanError`` saying what is wrong with the file."""
    name = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{name}: no such plan file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{name}: cannot read plan file: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"{name}:{exc.lineno}:{exc.colno}: not a plan file: {exc.msg}") from None
    try:
        if data.get("format_version") != FORMAT_VERSION:
            raise PlanError(
                f"{name}: unsupported plan format_version {data.get('format_version')!r}"
            )
        desired = DesiredState(
            tuple(
                DesiredChannel(
                    account=c["account"],
                    display_name=c["display_name"],
                    protect=bool(c["protect"]),
                    remove=bool(c["remove"]),
                    max_change_pct=float(c["max_change_pct"]),
                    links=tuple(
                        DesiredLink(title=lk["title"], ref=lk["ref"], message=lk["message"])
                        for lk in c["links"]
                    ),
                )
                for c in data["desired"]["channels"]
            )
        )
        return SavedPlan(
            desired=desired,
            config_sha256=data.get("config_sha256"),
            state_fingerprint=str(data["state_fingerprint"]),
            prior_state=dict(data["prior_state"]),
            forced=bool(data.get("forced", False)),
            changes=list(data["changes"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanError(
            f"{name}: not a saved plan (missing or malformed {exc}); make one with plan --out"
        ) from None


def check_fresh(saved: SavedPlan, actual: WorkspaceState, *, name: str) -> None:
    """Refuse (``PlanError``) a saved plan whose workspace state has moved since."""
    now = declared_state(saved.desired, actual)
    if fingerprint(now) == saved.state_fingerprint:
        return
    lines = describe_drift(saved.prior_state, now)
    raise PlanError(
        f"{name}: the plan is stale: the workspace changed since it was made, so it was not "
        "applied and nothing was changed.\n"
        + "\n".join(f"  {line}" for line in lines)
        + "\nRun plan again, review it, and apply the new plan."
    )


_PATH_PART = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def _readable(path: str) -> str:
    parts = [
        m.group(1) if m.group(1) is not None else m.group(2) for m in _PATH_PART.finditer(path)
    ]
    if not parts:
        return path
    account, rest = parts[0], parts[1:]
    if rest[:1] == ["links"] and len(rest) >= 2:
        detail = f"link {rest[1]}" + (f" {'.'.join(rest[2:])}" if rest[2:] else "")
    else:
        detail = ".".join(rest) or "channel"
    return f"{account}: {detail}"


def describe_drift(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per field that differs between two declared states."""
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, ignore_order=False, verbose_level=2)
    lines: list[str] = []
    for path, change in sorted(diff.get("values_changed", {}).items()):
        lines.append(
            f"{_readable(path)} changed: {change['old_value']!r} -> {change['new_value']!r}"
        )
    for path, change in sorted(diff.get("type_changes", {}).items()):
        old, new = change.get("old_value"), change.get("new_value")
        what = (
            "appeared" if old is None else "disappeared" if new is None else f"{old!r} -> {new!r}"
        )
        lines.append(f"{_readable(path)} {what}")
    for path in sorted(diff.get("dictionary_item_added", {})):
        lines.append(f"{_readable(path)} was added")
    for path in sorted(diff.get("dictionary_item_removed", {})):
        lines.append(f"{_readable(path)} was removed")
    return lines or ["the recorded state does not match the workspace"]
