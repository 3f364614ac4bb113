"""Saved plans (``plan --out``) and every check made on one before ``apply --plan`` runs it.

A saved plan is the JSON plan plus what it was made from: the desired state, the workspace
it was made against, and the prior state of the channels the config declares (like
Terraform's). ``dumps`` writes one, signed with HMAC-SHA256 when a plan key is given;
``load`` reads one back and refuses a file that isn't one (``PlanFileError``) or, given a
key, one whose signature is missing or wrong (``UntrustedPlan``). ``replan`` makes the plan
again against the workspace now and refuses it unless:

- it is the workspace the plan was made against (``WrongWorkspace``);
- the config given, if any, has the desired state the plan recorded (``UnboundPlan``);
- a plan made with ``--force`` is applied with ``--force`` again (``ForceRequired``);
- the workspace hasn't moved since, and the plan made now is the one saved (``StalePlan``,
  saying what moved: ``drift``).

No field of a plan file can make apply do more than the config and the flags allow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reconciler import config, schema_text
from reconciler.config.positions import line_col
from reconciler.config.sources import normal_path
from reconciler.config.write import desired_to_dict, dump_yaml
from reconciler.errors import (
    ForceRequired,
    PlanFileError,
    Severity,
    StalePlan,
    UnboundPlan,
    UntrustedPlan,
    WrongWorkspace,
)
from reconciler.files import reason
from reconciler.model import (
    DesiredChannel,
    DesiredState,
    WorkspaceRef,
    WorkspaceState,
    fold,
    link_url,
    visible,
)
from reconciler.plan.build import build
from reconciler.plan.drift import (
    describe_config_difference,
    describe_drift,
    describe_file_difference,
)
from reconciler.plan.fingerprint import declared_state, fingerprint
from reconciler.plan.values import Action, Plan, summary_of

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """A plan read back from a file: what it was made from, and the changes it showed."""

    desired: DesiredState
    config_sha256: str | None
    #: Each config file the plan was made from and its sha256 (None in a plan saved before
    #: plans recorded them).
    config_files: dict[str, str] | None
    state_fingerprint: str
    prior_state: dict[str, Any]
    forced: bool
    changes: list[dict[str, Any]]
    workspace: WorkspaceRef
    #: Whether the file carried a signature that was checked against a plan key.
    signed: bool = False


def to_dict(plan: Plan) -> dict[str, Any]:
    """The saved form of ``plan``: the JSON plan plus ``desired``, ``prior_state``, ``forced``,
    ``config_files`` when it was made from files (and ``workspace``, which a saved plan must
    have)."""
    if plan.workspace is None:
        raise ValueError("a saved plan records the workspace it was made against")
    data = plan.to_dict()
    data["forced"] = plan.forced
    if plan.config_files:
        data["config_files"] = dict(plan.config_files)
    data["desired"] = desired_to_dict(plan.desired)
    data["prior_state"] = plan.declared
    return data


def dumps(plan: Plan, *, key: bytes | None = None) -> str:
    """The text of ``plan`` saved (``plan --out``): deterministic JSON, with a ``signature``
    (HMAC-SHA256 of its canonical bytes under ``key``) when a plan key is given."""
    data = to_dict(plan)
    if key is not None:
        data["signature"] = _signature(data, key)
    return _text(data)


def _text(data: dict[str, Any]) -> str:
    """The file's bytes: sorted keys, two-space indent, ASCII (a lone surrogate a JSON API
    sent is written as its escape and reads back the same)."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=True) + "\n"


def _signature(data: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under ``key`` of the canonical bytes of ``data`` without its signature."""
    unsigned = {k: v for k, v in data.items() if k != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


def _check_signature(data: dict[str, Any], raw: bytes, key: bytes, name: str) -> None:
    """Refuse (``UntrustedPlan``) a plan whose signature under ``key`` is missing or wrong,
    or whose bytes are not exactly the ones signed. The key is never quoted."""
    given = data.get("signature")
    if not isinstance(given, str):
        raise UntrustedPlan(
            f"{name}: the plan is not signed, and RECONCILER_PLAN_KEY is set: only a plan "
            "saved with the same key applies; nothing was changed"
        )
    if not hmac.compare_digest(given, _signature(data, key)):
        raise UntrustedPlan(
            f"{name}: the plan's signature does not match (it was edited, or signed with "
            "another RECONCILER_PLAN_KEY); nothing was changed"
        )
    if raw != _text(data).encode("ascii"):
        raise UntrustedPlan(
            f"{name}: the plan file was edited after it was signed; nothing was changed"
        )


def load(path: str | Path, *, key: bytes | None = None) -> SavedPlan:
    """Read a saved plan, or raise ``PlanFileError`` saying what is wrong with the file.

    The file must be a plan as ``plan --out`` writes it: valid against the plan schema, with
    the desired state (itself a valid config), the workspace and the prior state it was
    made from. Given a plan ``key``, the file must be signed with it, byte for byte
    (``UntrustedPlan`` otherwise).
    """
    name = str(path)
    # 8 times the largest config: room for its desired state, prior state and changes.
    limit = 8 * config.max_config_bytes()
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(limit + 1)  # a device or a FIFO has no size to check first
        if len(raw) > limit:
            shown = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit:,} bytes"
            raise PlanFileError(f"{name}: larger than the {shown} limit of a plan file")
        data = json.loads(raw.decode("utf-8"))
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
    except ValueError:  # an integer longer than Python reads (4,300 digits): never a plan's
        huge = re.search(rb"[0-9]{4301}", raw)
        line, col = line_col(raw[: huge.start() if huge else 0].decode("utf-8", "replace"))
        raise PlanFileError(
            f"{name}:{line}:{col}: not a plan file: a number of more than 4,300 digits"
        ) from None
    except RecursionError:
        raise PlanFileError(f"{name}: not a plan file (nested too deeply)") from None
    if not isinstance(data, dict):
        raise PlanFileError(f"{name}: not a plan file (a JSON object was expected)")
    if "format_version" not in data:
        raise PlanFileError(
            f"{name}: not a plan file (it has no format_version); "
            "save a plan with 'reconciler plan PATH... --out PLANFILE'"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{name}: unsupported plan format_version {data.get('format_version')!r} "
            f"(this reconciler reads {FORMAT_VERSION}); make the plan again with plan --out"
        )
    _check_schema(data, name)
    if key is not None:
        _check_signature(data, raw, key, name)
    missing = [field for field in ("desired", "prior_state", "workspace") if field not in data]
    if missing:
        raise PlanFileError(
            f"{name}: a plan, but not a saved one (no {' or '.join(missing)}): "
            "save a plan with 'reconciler plan PATH... --out PLANFILE'"
        )
    if fingerprint(data["prior_state"]) != data["state_fingerprint"]:
        raise PlanFileError(
            f"{name}: the plan file was edited (its prior_state doesn't match its "
            "state_fingerprint); make the plan again with plan --out"
        )
    desired = _desired(data["desired"], name)
    _check_changes(data, desired, name)
    return SavedPlan(
        desired=desired,
        config_sha256=data["config_sha256"],
        # In their normal form: a plan saved before plans recorded it named them as spelled.
        config_files=(
            {normal_path(path): digest for path, digest in data["config_files"].items()}
            if "config_files" in data
            else None
        ),
        state_fingerprint=data["state_fingerprint"],
        prior_state=dict(data["prior_state"]),
        forced=bool(data.get("forced", False)),
        changes=list(data["changes"]),
        workspace=WorkspaceRef(**data["workspace"]),
        signed=key is not None,
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
            keys = ("account", "display_name", "protect", "remove", "prune")
            item = {k: c[k] for k in keys if k in c}
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


def _check_changes(data: dict[str, Any], desired: DesiredState, name: str) -> None:
    """Refuse (``PlanFileError``) a plan whose summary doesn't count its changes, or with a
    regeneration its own states don't make (``_own_regeneration``)."""
    if summary_of(change["action"] for change in data["changes"]) != data["summary"]:
        raise PlanFileError(
            f"{name}: the plan file was edited (its summary doesn't count its changes); "
            "make the plan again with plan --out"
        )
    declared = {fold(c.account): c for c in desired.channels}
    for change in data["changes"]:
        if change["action"] != Action.REGENERATE.value or change["resource"] != "link":
            continue
        if not _own_regeneration(change, data["prior_state"], declared):
            raise PlanFileError(
                f"{name}: the plan file was edited (it regenerates "
                f"{visible(change['channel'])} / {visible(str(change['title']))!r} otherwise "
                "than its desired and prior state make); make the plan again with plan --out"
            )


def _own_regeneration(
    change: dict[str, Any], prior_state: dict[str, Any], declared: dict[str, DesiredChannel]
) -> bool:
    """Whether the regeneration ``change`` turns a link of ``prior_state`` (as it was) into
    one a ``declared`` channel has, at the URL the URL rule gives: what ``links
    --changed-since PLANFILE`` lists (an edited URL would be printed on posters)."""
    account, before, after = change["channel"], change["before"], change["after"]
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return False
    prior = prior_state.get(fold(account))
    links = prior.get("links") if isinstance(prior, dict) else None
    was = [lk for lk in links.values() if isinstance(lk, dict)] if isinstance(links, dict) else []
    fields = ("title", "ref", "message", "url")
    channel = declared.get(fold(account))
    wanted = {(lk.title, lk.ref, lk.message) for lk in channel.links} if channel else set()
    return (
        any({k: lk.get(k) for k in fields} == before for lk in was)
        and (after.get("title"), after.get("ref"), after.get("message")) in wanted
        and after.get("url") == link_url(account, after["ref"], after["message"])
    )


def check_workspace(saved: SavedPlan, workspace: WorkspaceRef, *, name: str) -> None:
    """Refuse (``WrongWorkspace``) a plan made against another workspace than ``workspace``
    (another store file, even a copy; another API; another workspace behind the same URL)."""
    if saved.workspace != workspace:
        raise WrongWorkspace(
            f"{name} was made against {saved.workspace}, not {workspace}; "
            "nothing was changed. Plan against this workspace."
        )


def check_bound(
    saved: SavedPlan,
    given: DesiredState,
    *,
    name: str,
    config_name: str,
    files: dict[str, str] | None = None,
) -> None:
    """Refuse (``UnboundPlan``) a saved plan whose recorded desired state is not ``given``
    (the config's, parsed now), or, when both the plan and the caller have them, whose
    recorded config files are not ``files`` (path to sha256: a file added, removed or
    changed), saying what differs."""
    moved = (
        describe_file_difference(saved.config_files, files)
        if saved.config_files is not None and files is not None
        else []
    )
    if saved.desired == given and not moved:
        return
    lines = moved + (
        describe_config_difference(saved.desired, given) if saved.desired != given else []
    )
    raise UnboundPlan(
        f"{name} was not made from {config_name} as it is now, so it was not applied and "
        "nothing was changed:\n"
        + "\n".join(f"  {line}" for line in lines)
        + "\nPlan again, review it, and apply the new plan."
    )


def check_force(saved: SavedPlan, *, force: bool, name: str) -> None:
    """Refuse (``ForceRequired``) a plan made with ``--force`` applied without it."""
    if saved.forced and not force:
        raise ForceRequired(
            f"{name} was made with --force (past the bulk-change guard): apply it with --force "
            "too, or plan again without it. Nothing was changed."
        )


def check_fresh(
    saved: SavedPlan, actual: WorkspaceState, *, name: str, kept: frozenset[str] = frozenset()
) -> None:
    """Refuse (``StalePlan``) a saved plan whose workspace state has moved since (the links
    ``prune: false`` keeps now, ids in ``kept``, left out: a plan never touches them)."""
    now = declared_state(saved.desired, actual, kept=kept)
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
    workspace: WorkspaceRef,
    can_connect: bool,
    force: bool = False,
    given: tuple[str, DesiredState] | None = None,
    given_files: dict[str, str] | None = None,
) -> Plan:
    """The plan ``saved`` showed, made again against ``actual`` (the workspace
    ``workspace`` read now), after every check of this module: the workspace, the config
    ``given`` (its name and desired state) if any, with its files (``given_files``: path to
    sha256) if known, ``--force``, freshness, and the same changes. Raises the
    ``PlanError`` of the first check that fails; nothing has changed."""
    check_workspace(saved, workspace, name=name)
    if given is not None:
        config_name, desired = given
        check_bound(saved, desired, name=name, config_name=config_name, files=given_files)
    check_force(saved, force=force, name=name)
    again = build(
        saved.desired,
        actual,
        can_connect=can_connect,
        force=force,
        config_sha256=saved.config_sha256,
        config_files=tuple((saved.config_files or {}).items()),
        workspace=workspace,
    )
    check_fresh(saved, actual, name=name, kept=again.kept_links)
    if [c.to_dict() for c in again.changes] != saved.changes:
        raise StalePlan(f"{name}: the plan no longer matches the workspace; plan again")
    return again
