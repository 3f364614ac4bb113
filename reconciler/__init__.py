"""reconciler: config-as-code for SleekFlow TikTok Business Messaging channels and links."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def schema_text(name: str) -> str:
    """A JSON Schema shipped in the package (``schemas/NAME``). Read as a plain file next to
    this module, which saves importlib.resources' imports on every start."""
    return (Path(__file__).parent / "schemas" / name).read_text(encoding="utf-8")
