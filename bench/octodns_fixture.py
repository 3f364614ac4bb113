"""The same plan for octoDNS 1.22: N zones x M TXT records, a share of them changed.

YamlProvider to YamlProvider, like the figure quoted in the performance issue: ``desired/``
holds the config, ``existing/`` the "live" records, ``--changed`` of which carry an older
value, so ``octodns-sync`` (without ``--doit``) plans that many updates.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench.generate import message


def generate(out: Path, zones: int, records: int, changed: float, seed: int = 1) -> Path:
    """Write ``out/octodns/config.yaml`` and the zone files; return the config's path."""
    rng = random.Random(seed)
    root = out / "octodns"
    desired = root / "desired"
    existing = root / "existing"
    desired.mkdir(parents=True, exist_ok=True)
    existing.mkdir(parents=True, exist_ok=True)
    config = [
        "providers:",
        "  config:",
        "    class: octodns.provider.yaml.YamlProvider",
        f"    directory: {desired}",
        "  existing:",
        "    class: octodns.provider.yaml.YamlProvider",
        f"    directory: {existing}",
        "zones:",
    ]
    n = 0
    for z in range(zones):
        zone = f"brand{z:05}.example."
        config += [f"  {zone}:", "    sources: [config]", "    targets: [existing]"]
        want, have = [], []
        for r in range(records):
            n += 1
            value = message(rng, n, ascii_only=True)
            old = value if rng.random() >= changed else value + " (old)"
            want += [f"link{r:03}:", "  type: TXT", f'  value: "{value}"']
            have += [f"link{r:03}:", "  type: TXT", f'  value: "{old}"']
        (desired / f"{zone}yaml").write_text("---\n" + "\n".join(want) + "\n", encoding="utf-8")
        (existing / f"{zone}yaml").write_text("---\n" + "\n".join(have) + "\n", encoding="utf-8")
    path = root / "config.yaml"
    path.write_text("\n".join(config) + "\n", encoding="utf-8")
    return path
