"""The plans the commands run against a workspace: a config's (``plan``, ``apply FILE``) and
a saved one re-checked (``apply --plan``). The CLI and ``reconciler ci`` call these, so both
do exactly the same; ``apply.run`` then applies the plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.backends.base import Backend
from reconciler.config import Loaded
from reconciler.plan import Plan, build

if TYPE_CHECKING:
    from reconciler.plan.saved import SavedPlan


def plan_against(config: Loaded, backend: Backend, *, force: bool = False) -> Plan:
    """The plan of ``config`` (the desired state of its files, and their digests) against
    the workspace ``backend`` reaches, as it is now: what ``plan`` and ``apply PATH...``
    run."""
    return build(
        config.desired,
        backend.read(),
        can_connect=backend.capabilities.can_connect,
        force=force,
        config_sha256=config.sha256,
        config_files=tuple(config.digests.items()),
        workspace=backend.workspace(),
    )


def reviewed(
    recorded: SavedPlan,
    backend: Backend,
    *,
    name: str,
    force: bool = False,
    given: Loaded | None = None,
) -> Plan:
    """The saved plan ``recorded`` (read from ``name``) made again against the workspace
    ``backend`` reaches, after every check of ``plan.saved.replan`` (``given``: the config
    of the PATHs given, whose desired state must be the one the plan recorded, from the
    same files with the same bytes): what ``apply --plan PLANFILE [PATH...]`` runs."""
    # Imported here: a saved plan's checks (and the config writer and drift wording they
    # use) are a tenth of a cold plan's imports, and only apply --plan needs them.
    from reconciler.plan.saved import replan

    return replan(
        recorded,
        backend.read(),
        name=name,
        workspace=backend.workspace(),
        can_connect=backend.capabilities.can_connect,
        force=force,
        given=None if given is None else (given.name, given.desired),
        given_files=None if given is None else given.digests,
    )
