"""Benchmarks of reconciler (see README.md); ``python -m bench.run``."""

from pathlib import Path

#: The repository the benchmarks measure.
ROOT = Path(__file__).resolve().parent.parent
