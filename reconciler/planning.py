"""The plans the commands run against a workspace: a config's (``plan``, ``apply FILE``) and
a saved one re-checked (``apply --plan``). The CLI and ``reconciler ci`` call these, so both
do exactly the same; ``apply.run`` then applies the plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.backends.base import Backend
from reconciler.model import DesiredState
from reconciler.plan import Plan, build

if TYPE_CHECKING:
    from reconciler.plan.saved import SavedPlan


def plan_against(
    desired: DesiredState, backend: Backend, *, force: bool = False, config_sha256: str | None
) -> Plan:
    """The plan of ``desired`` (a config whose bytes have ``config_sha256``) against the
    workspace ``backend`` reaches, as it is now: what ``plan`` and ``apply FILE`` run."""
    return build(
        desired,
        backend.read(),
        can_connect=backend.capabilities.can_connect,
        force=force,
        config_sha256=config_sha256,
        workspace=backend.workspace(),
    )


def reviewed(
    recorded: SavedPlan,
    backend: Backend,
    *,
    name: str,
    force: bool = False,
    given: tuple[str, DesiredState] | None = None,
) -> Plan:
    """The saved plan ``recorded`` (read from ``name``) made again against the workspace
    ``backend`` reaches, after every check of ``plan.saved.replan`` (``given``: a config's
    name and desired state, which must be the one the plan recorded): what
    ``apply --plan PLANFILE [CONFIG]`` runs."""
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
        given=given,
    )
