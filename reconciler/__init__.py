"""reconciler: config-as-code for SleekFlow TikTok Business Messaging channels and links."""

from __future__ import annotations

__version__ = "0.1.0"
