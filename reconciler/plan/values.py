"""What a plan is made of: its actions, changes and diagnostics, and the ``Plan`` itself.

Values only: ``plan.build`` decides which of them a plan holds; renderers and ``apply`` read
them. Every value is frozen, so a plan can't change between review and apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.errors import Severity
from reconciler.model import DesiredState, WorkspaceRef, WorkspaceState, fold
from reconciler.plan.fingerprint import declared_state, fingerprint


class Action(StrEnum):
    """What a change does (``Plan.summary`` counts them in this order)."""

    CONNECT = "connect"
    RENAME = "rename"
    CREATE = "create"
    UPDATE = "update"
    REGENERATE = "regenerate"
    REMOVE = "remove"


class Resource(StrEnum):
    """What a change acts on."""

    CHANNEL = "channel"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class LinkValues:
    """A link's fields on one side of a change; ``url`` is the URL it has (or will have)."""

    title: str
    ref: str | None
    message: str
    url: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON data."""
        return {"title": self.title, "ref": self.ref, "message": self.message, "url": self.url}


@dataclass(frozen=True, slots=True)
class ChannelValues:
    """A channel's fields on one side of a change; for a channel removed, ``links`` are the
    links it takes with it (in creation order), whose URLs keep working, untracked."""

    display_name: str
    links: tuple[LinkValues, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON data (``links`` only for a channel removed)."""
        data: dict[str, Any] = {"display_name": self.display_name}
        if self.links is not None:
            data["links"] = [link.to_dict() for link in self.links]
        return data


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a plan. ``channel`` is the account as the workspace spells it (the
    config's spelling for a channel yet to connect); ``title`` is the link's title after the
    change (before it, for a removal)."""

    action: Action
    resource: Resource
    channel: str
    title: str | None = None
    fields: tuple[str, ...] = ()
    before: LinkValues | ChannelValues | None = None
    after: LinkValues | ChannelValues | None = None
    channel_id: str | None = None
    link_id: str | None = None
    #: The version of the channel or link the change writes over, as the plan saw it (None
    #: for a connect or create); apply writes only if it is still that version.
    version: int | None = None

    @property
    def irreversible(self) -> bool:
        """Whether applying the change can't be undone (a removal: the old URL stops working)."""
        return self.action is Action.REMOVE

    @property
    def changes_url(self) -> bool:
        """Whether applying the change gives the link a new URL (a regeneration)."""
        return self.action is Action.REGENERATE

    def to_dict(self) -> dict[str, Any]:
        """The change as the JSON plan shows it (``schemas/plan.schema.json``)."""
        return {
            "action": str(self.action),
            "resource": str(self.resource),
            "channel": self.channel,
            "title": self.title,
            "fields": list(self.fields),
            "irreversible": self.irreversible,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
        }


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding about a plan: an error blocks applying it, a warning or info does not.
    ``channel`` is the account it is about, if any."""

    severity: Severity
    code: str
    channel: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The diagnostic as the JSON plan shows it."""
        return {
            "severity": str(self.severity),
            "code": self.code,
            "channel": self.channel,
            "message": self.message,
        }


def summary_of(actions: Iterable[str]) -> dict[str, int]:
    """A plan's ``summary``: how many of its changes have each action (``actions``, one a
    change), every action counted, in ``Action``'s order."""
    counts = dict.fromkeys((str(a) for a in Action), 0)
    for action in actions:
        counts[action] += 1
    return counts


@dataclass(frozen=True, slots=True)
class Plan:
    """The changes that make a workspace match a config, and the diagnostics about them.
    Made by ``plan.build``; ``summary`` counts the changes by action."""

    changes: tuple[Change, ...]
    diagnostics: tuple[Diagnostic, ...]
    #: What the plan was made from. ``declared`` (each declared channel's state as plain data)
    #: and its hash ``state_fingerprint`` are derived on first use: a text plan needs neither,
    #: and at 100,000 links they cost a third of a second.
    desired: DesiredState = field(repr=False, compare=False)
    actual: WorkspaceState = field(repr=False, compare=False)
    config_sha256: str | None = None
    #: Each config file the plan was made from and its sha256, in path order (what a saved
    #: plan records, so apply refuses it when a file was added, removed or changed).
    config_files: tuple[tuple[str, str], ...] = ()
    forced: bool = False
    #: The ids of the existing links ``prune: false`` keeps: not part of the declared state.
    kept_links: frozenset[str] = field(default=frozenset(), compare=False)
    #: The workspace the plan was made against (None for a plan of literal states).
    workspace: WorkspaceRef | None = field(default=None, compare=False)
    #: ``(account, display name)`` of each declared channel, in config order: the name the
    #: workspace shows (the config's for a channel yet to connect). For headings only.
    channel_names: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    summary: dict[str, int] = field(init=False, compare=False)
    _names: dict[str, str] = field(init=False, repr=False, compare=False)
    _declared: dict[str, Any] | None = field(init=False, default=None, repr=False, compare=False)
    _fingerprint: str | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_names", {fold(acc): name for acc, name in reversed(self.channel_names)}
        )
        object.__setattr__(self, "summary", summary_of(str(c.action) for c in self.changes))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The error-level diagnostics: what stops the plan from being applied."""
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def applicable(self) -> bool:
        """A plan with any error-level diagnostic cannot be applied at all."""
        return not self.errors

    def display_name(self, account: str) -> str | None:
        """The display name of the declared channel ``account`` (see ``channel_names``)."""
        return self._names.get(fold(account))

    @property
    def declared(self) -> dict[str, Any]:
        """The workspace state of the declared channels (``declared_state``)."""
        if self._declared is None:
            declared = declared_state(self.desired, self.actual, kept=self.kept_links)
            object.__setattr__(self, "_declared", declared)
        assert self._declared is not None
        return self._declared

    @property
    def state_fingerprint(self) -> str:
        """sha256 of the declared state: what a saved plan checks the workspace against."""
        if self._fingerprint is None:
            object.__setattr__(self, "_fingerprint", fingerprint(self.declared))
        assert self._fingerprint is not None
        return self._fingerprint

    @property
    def removals(self) -> tuple[Change, ...]:
        """The irreversible changes, in plan order."""
        return tuple(c for c in self.changes if c.irreversible)

    @property
    def regenerations(self) -> tuple[Change, ...]:
        """The changes that give a link a new URL, in plan order."""
        return tuple(c for c in self.changes if c.changes_url)

    def to_dict(self) -> dict[str, Any]:
        """The JSON plan (``schemas/plan.schema.json``)."""
        return {
            "format_version": 1,
            "config_sha256": self.config_sha256,
            "state_fingerprint": self.state_fingerprint,
            "summary": dict(self.summary),
            "changes": [c.to_dict() for c in self.changes],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        } | ({} if self.workspace is None else {"workspace": self.workspace.to_dict()})
