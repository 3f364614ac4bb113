"""Generate a benchmark workspace: N channels x M links, a share of them changed.

    python bench/generate.py --channels 2000 --links 50 --changed 0.10 --out /tmp/bench

writes ``workspace.yaml`` (the desired state) and ``workspace.db`` (a local store holding the
same links, except that ``--changed`` of them carry an older message, so the plan regenerates
them). Deterministic: the same arguments give the same files.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from pathlib import Path

from reconciler.backends.local import LocalBackend
from reconciler.model import fold, link_url

WORDS = (
    *("summer", "sale", "giveaway", "bio", "adoption", "week", "vip", "program", "promo"),
    *("code", "launch", "event", "rsvp", "story", "hola", "bonjour", "こんにちは", "🐶", "🐾"),
    *("join", "claim", "discount", "chat", "now", "limited", "offer"),
)


ASCII_WORDS = tuple(w for w in WORDS if w.isascii())


def message(rng: random.Random, i: int, *, ascii_only: bool = False) -> str:
    """A prefilled message of eight words (some non-ASCII unless ``ascii_only``)."""
    words = ASCII_WORDS if ascii_only else WORDS
    return " ".join(rng.choice(words) for _ in range(8)) + f" #{i}"


def generate(out: Path, channels: int, links: int, changed: float, seed: int = 1) -> Path:
    """Write ``out/workspace.yaml`` and ``out/workspace.db``; return the config's path."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "workspace.db"
    store.unlink(missing_ok=True)
    LocalBackend(store).read()  # nothing: the store is created by the first write below
    lines = ["version: 1", "channels:"]
    rows_channels = []
    rows_links = []
    link_id = 0
    for c in range(channels):
        account = f"brand{c:05}"
        lines += [f"  - account: {account}", f"    display_name: Brand {c}", "    links:"]
        rows_channels.append((c + 1, account, account, f"Brand {c}", "connected"))
        for k in range(links):
            link_id += 1
            title = f"Link {k:03} of brand {c}"
            ref = f"ref_{c}_{k}"
            msg = message(rng, link_id)
            lines += [f"      - title: {title}", f"        ref: {ref}", f'        message: "{msg}"']
            stored = msg if rng.random() >= changed else msg + " (old)"
            url = link_url(account, ref, stored)
            rows_links.append(
                (link_id, c + 1, title, fold(title), ref, stored, url, "2026-01-01", "2026-01-01")
            )
    config = out / "workspace.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    backend = LocalBackend(store)
    backend.connect_channel("bootstrap", "x")  # creates the schema
    backend.close()
    db = sqlite3.connect(store)
    with db:
        db.execute("DELETE FROM channels")
        db.executemany(
            "INSERT INTO channels (id, account, account_key, display_name, status) "
            "VALUES (?,?,?,?,?)",
            rows_channels,
        )
        db.executemany(
            "INSERT INTO links "
            "(id, channel_id, title, title_key, ref, message, url, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            rows_links,
        )
    db.close()
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--links", type=int, default=50)
    parser.add_argument("--changed", type=float, default=0.10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(generate(args.out, args.channels, args.links, args.changed))


if __name__ == "__main__":
    main()
