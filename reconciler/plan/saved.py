"""Saved plans (``plan --out``) and every check made on one before ``apply --plan`` runs it.

A saved plan is the JSON plan plus what it was made from: the desired state, the config's
sha256, and the prior state of the channels the config declares (like Terraform's).
``load`` reads one back and refuses a file that isn't one (``PlanFileError``); ``replan``
makes the plan again against the workspace now and refuses it unless it was made from the
config given (``UnboundPlan``) and the workspace hasn't moved since (``StalePlan``, saying
what moved: ``drift``). What is applied is exactly what was reviewed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reconciler import config, schema_text
from reconciler.config.write import desired_to_dict, dump_yaml
from reconciler.errors import PlanFileError, Severity, StalePlan, UnboundPlan
from reconciler.files import reason
from reconciler.model import DesiredState, WorkspaceState
from reconciler.plan.build import build
from reconciler.plan.drift import describe_drift
from reconciler.plan.fingerprint import declared_state, fingerprint
from reconciler.plan.values import Plan

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


def load(path: str | Path) -> SavedPlan:
    """Read a saved plan, or raise ``PlanFileError`` saying what is wrong with the file.

    The file must be a plan as ``plan --out`` writes it: valid against the plan schema, with
    the desired state (itself a valid config) and the prior state it was made from.
    """
    name = str(path)
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise PlanFileError(f"{name}: no such plan file") from None
    except IsADirectoryError:
        raise PlanFileError(f"{name}: is a directory, not a plan file") from None
    except OSError as exc:
        raise PlanFileError(f"{name}: cannot read plan file: {reason(exc)}") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{name}: not a plan file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{name}:{exc.lineno}:{exc.colno}: not a plan file: {exc.msg}"
        ) from None
    except RecursionError:
        raise PlanFileError(f"{name}: not a plan file (nested too deeply)") from None
    if not isinstance(data, dict):
        raise PlanFileError(f"{name}: not a plan file (a JSON object was expected)")
    if "format_version" not in data:
        raise PlanFileError(
            f"{name}: not a plan file (it has no format_version); "
            "save a plan with 'reconciler plan FILE --out PLANFILE'"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{name}: unsupported plan format_version {data.get('format_version')!r} "
            f"(this reconciler reads {FORMAT_VERSION}); make the plan again with plan --out"
        )
    _check_schema(data, name)
    missing = [key for key in ("desired", "prior_state") if key not in data]
    if missing:
        raise PlanFileError(
            f"{name}: a plan, but not a saved one (no {' or '.join(missing)}): "
            "save a plan with 'reconciler plan FILE --out PLANFILE'"
        )
    if fingerprint(data["prior_state"]) != data["state_fingerprint"]:
        raise PlanFileError(
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
    # Imported here: Python's jsonschema takes a quarter of a second to import, and only a
    # saved plan being read needs it.
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    return Draft202012Validator(json.loads(schema_text("plan.schema.json")))


def _check_schema(data: dict[str, Any], name: str) -> None:
    """Refuse (``PlanFileError``) ``data`` that the plan schema refuses, naming where."""
    # Imported here for the reason of _validator.
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.absolute_path) or "the top level"
        raise PlanFileError(f"{name}: not a valid plan file: {error.message} (at {where})")


def _desired(data: Any, name: str) -> DesiredState:
    """The desired state recorded in a saved plan, checked by the same rules as a config."""

    def fail(reason: str) -> PlanFileError:
        return PlanFileError(
            f"{name}: the desired state recorded in the plan is not valid: {reason}"
        )

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


def check_source(saved: SavedPlan, config_sha256: str, *, name: str, config_name: str) -> None:
    """Refuse (``UnboundPlan``) a saved plan that was not made from the config as it is now
    (``config_sha256``: the sha256 of its bytes), so what is applied is what was reviewed."""
    if saved.config_sha256 != config_sha256:
        raise UnboundPlan(
            f"{name} was not made from {config_name} as it is now (sha256 differs); "
            "nothing was changed. Plan again."
        )


def check_fresh(saved: SavedPlan, actual: WorkspaceState, *, name: str) -> None:
    """Refuse (``StalePlan``) a saved plan whose workspace state has moved since."""
    now = declared_state(saved.desired, actual)
    if fingerprint(now) == saved.state_fingerprint:
        return
    lines = describe_drift(saved.prior_state, now)
    raise StalePlan(
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
    source: tuple[str, str] | None = None,
) -> Plan:
    """The plan ``saved`` showed, made again against ``actual``: refused with
    ``UnboundPlan`` when ``source`` (a config's name and the sha256 of its bytes) is not what
    the plan was made from, with ``StalePlan`` when the workspace moved since
    (``check_fresh``) or the plan made now differs from the one saved."""
    if source is not None:
        config_name, config_sha256 = source
        check_source(saved, config_sha256, name=name, config_name=config_name)
    check_fresh(saved, actual, name=name)
    again = build(
        saved.desired,
        actual,
        can_connect=can_connect,
        force=force or saved.forced,
        config_sha256=saved.config_sha256,
    )
    if [c.to_dict() for c in again.changes] != saved.changes:
        raise StalePlan(f"{name}: the plan no longer matches the workspace; plan again")
    return again
