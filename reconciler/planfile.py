"""Saved plans: the JSON plan plus what it was made from, so ``apply --plan`` can prove that
the workspace hasn't moved since the plan was reviewed.

A saved plan records the desired state, the config's sha256, and the prior state of the
channels the config declares (like Terraform's). On apply the workspace is read again; if its
fingerprint differs, a deepdiff of the recorded state against the current one names each
field that moved, and nothing is applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reconciler import schema_text
from reconciler.errors import PlanError, Severity
from reconciler.files import reason
from reconciler.links import Regeneration
from reconciler.model import DesiredState, WorkspaceState
from reconciler.plan import Plan, declared_state, fingerprint

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """A plan read back from a file: what it was made from, and the changes it showed."""

    desired: DesiredState
    config_sha256: str | None
    state_fingerprint: str
    prior_state: dict[str, Any]
    forced: bool
    changes: list[dict[str, Any]]


def to_dict(plan: Plan) -> dict[str, Any]:
    """The saved form of ``plan``: the JSON plan plus ``desired``, ``prior_state``, ``forced``."""
    data = plan.to_dict()
    data["forced"] = plan.forced
    data["desired"] = desired_to_dict(plan.desired)
    data["prior_state"] = plan.declared
    return data


def desired_to_dict(desired: DesiredState) -> dict[str, Any]:
    """``desired`` as plain data (the saved plan's ``desired``)."""
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
    """Read a saved plan, or raise ``PlanError`` saying what is wrong with the file.

    The file must be a plan as ``plan --out`` writes it: valid against the plan schema, with
    the desired state (itself a valid config) and the prior state it was made from.
    """
    name = str(path)
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{name}: no such plan file") from None
    except IsADirectoryError:
        raise PlanError(f"{name}: is a directory, not a plan file") from None
    except OSError as exc:
        raise PlanError(f"{name}: cannot read plan file: {reason(exc)}") from None
    except UnicodeDecodeError:
        raise PlanError(f"{name}: not a plan file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"{name}:{exc.lineno}:{exc.colno}: not a plan file: {exc.msg}") from None
    except RecursionError:
        raise PlanError(f"{name}: not a plan file (nested too deeply)") from None
    if not isinstance(data, dict):
        raise PlanError(f"{name}: not a plan file (a JSON object was expected)")
    if "format_version" not in data:
        raise PlanError(
            f"{name}: not a plan file (it has no format_version); "
            "save a plan with 'reconciler plan FILE --out PLANFILE'"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanError(
            f"{name}: unsupported plan format_version {data.get('format_version')!r} "
            f"(this reconciler reads {FORMAT_VERSION}); make the plan again with plan --out"
        )
    _check_schema(data, name)
    missing = [key for key in ("desired", "prior_state") if key not in data]
    if missing:
        raise PlanError(
            f"{name}: a plan, but not a saved one (no {' or '.join(missing)}): "
            "save a plan with 'reconciler plan FILE --out PLANFILE'"
        )
    if fingerprint(data["prior_state"]) != data["state_fingerprint"]:
        raise PlanError(
            f"{name}: the plan file was edited (its prior_state doesn't match its "
            "state_fingerprint); make the plan again with plan --out"
        )
    return SavedPlan(
        desired=_desired(data["desired"], name),
        config_sha256=data["config_sha256"],
        state_fingerprint=data["state_fingerprint"],
        prior_state=dict(data["prior_state"]),
        forced=bool(data.get("forced", False)),
        changes=list(data["changes"]),
    )


@cache
def _validator() -> Any:
    """A validator for the plan schema (``schemas/plan.schema.json``)."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    return Draft202012Validator(json.loads(schema_text("plan.schema.json")))


def _check_schema(data: dict[str, Any], name: str) -> None:
    """Refuse (``PlanError``) ``data`` that the plan schema refuses, naming where."""
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.absolute_path) or "the top level"
        raise PlanError(f"{name}: not a valid plan file: {error.message} (at {where})")


def _desired(data: Any, name: str) -> DesiredState:
    """The desired state recorded in a saved plan, checked by the same rules as a config."""
    from reconciler import config
    from reconciler.config.write import dump_yaml

    def fail(reason: str) -> PlanError:
        return PlanError(f"{name}: the desired state recorded in the plan is not valid: {reason}")

    # Back to config form (absent values left out), so config.check applies every rule.
    try:
        channels = []
        for c in data["channels"]:
            item = {k: c[k] for k in ("account", "display_name", "protect", "remove") if k in c}
            item = {k: v for k, v in item.items() if v is not None}
            if "max_change_pct" in c:
                item["max_change_pct"] = c["max_change_pct"]
            links = [{k: v for k, v in lk.items() if v is not None} for lk in c.get("links", [])]
            if links or not c.get("remove"):
                item["links"] = links
            channels.append(item)
        text = dump_yaml({"version": data.get("version"), "channels": channels})
    except (KeyError, TypeError, AttributeError) as exc:
        raise fail(f"malformed ({type(exc).__name__}: {exc})") from None
    desired, problems = config.check(text, name)
    if desired is None:
        errors = [p.message for p in problems if p.severity is Severity.ERROR]
        raise fail("; ".join(errors) or "unreadable")
    return desired


def regenerations(saved: SavedPlan) -> tuple[Regeneration, ...]:
    """The links ``saved`` regenerates (a new URL each), in the plan's order: for
    ``links --changed-since PLANFILE``, the "replace these URLs" list again, later."""
    out = []
    for change in saved.changes:
        if change.get("action") != "regenerate" or change.get("resource") != "link":
            continue
        before, after = change.get("before"), change.get("after")
        if not (isinstance(before, dict) and isinstance(after, dict)):
            continue  # the plan schema rules this out; nothing to list for it anyway
        if "url" not in before or "url" not in after:
            continue
        out.append(
            Regeneration(
                channel=change["channel"],
                old_title=before["title"],
                old_ref=before["ref"],
                old_message=before["message"],
                old_url=before["url"],
                title=after["title"],
                ref=after["ref"],
                message=after["message"],
                new_url=after["url"],
            )
        )
    return tuple(out)


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


def replan(
    saved: SavedPlan,
    actual: WorkspaceState,
    *,
    name: str,
    can_connect: bool,
    force: bool = False,
) -> Plan:
    """The plan ``saved`` showed, made again against ``actual``, or ``PlanError`` when the
    workspace moved since (``check_fresh``) or the plan made now differs from the one saved:
    what is applied is exactly what was reviewed."""
    from reconciler import plan as planner

    check_fresh(saved, actual, name=name)
    again = planner.build(
        saved.desired,
        actual,
        can_connect=can_connect,
        force=force or saved.forced,
        config_sha256=saved.config_sha256,
    )
    if [c.to_dict() for c in again.changes] != saved.changes:
        raise PlanError(f"{name}: the plan no longer matches the workspace; plan again")
    return again


def describe_drift(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per field that differs between two declared states (``prior_state`` of a
    saved plan, and the same channels now), links named by title and id, e.g.
    ``acmepets: link 'VIP Program' (id 4) message changed: 'a' -> 'b'``."""
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
    found: list[tuple[tuple[Any, ...], str]] = []
    for report, path, level in changes:
        if not path or (len(path) == 4 and path[3] == "url" and tuple(path[:3]) in regenerated):
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
