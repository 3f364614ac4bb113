"""Two states -> a ``Plan``: what applying a config would change, and what stands in its way.

The rooms of this package:

- ``values``: the values a plan is made of (``Action``, ``Change``, ``Diagnostic``, ``Plan``).
- ``build``: ``build(desired, actual) -> Plan``, pure and deterministic; ``matching``: how
  a channel's declared links meet its existing ones (its link changes).
- ``fingerprint``: the declared part of a workspace as plain data, and its sha256.
- ``saved``: saved plans (``plan --out``) and every check made on one before it is applied.
- ``drift``: what moved in a workspace since a saved plan was made, in words.

The public names are importable from here: ``from reconciler.plan import build, Plan``.
"""

from __future__ import annotations

from reconciler.plan.build import BULK_GUARD_MIN_LINKS, CONNECT_FIX, DISCONNECTED_FIX, build
from reconciler.plan.fingerprint import declared_state, fingerprint
from reconciler.plan.values import (
    Action,
    Change,
    ChannelValues,
    Diagnostic,
    LinkValues,
    Plan,
    Resource,
)

__all__ = [
    "BULK_GUARD_MIN_LINKS",
    "CONNECT_FIX",
    "DISCONNECTED_FIX",
    "Action",
    "Change",
    "ChannelValues",
    "Diagnostic",
    "LinkValues",
    "Plan",
    "Resource",
    "build",
    "declared_state",
    "fingerprint",
]
