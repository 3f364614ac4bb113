"""Benchmarks, each against its reference measured in the same run.

    python -m bench.run                 # everything (installs octoDNS 1.22 in its own venv)
    python -m bench.run plan cold       # some: plan, floor, cold, http, rate, httpplan, sandbox,
                                        # scale, qr
    python -m bench.run --quick         # fewer runs and smaller sizes: a smoke run

1. plan: ``reconciler plan`` of 100,000 links (2,000 channels x 50, 10% regenerated) on the
   local store, against octoDNS 1.22 planning 100,000 TXT records of the same shape
   (YamlProvider to YamlProvider), and against libyaml's event stream over the same file (the
   floor any YAML-reading tool stands on). Wall time medians and peak RSS. ``floor``: the same
   without octoDNS.
2. cold: ``reconciler plan examples/workspace.yaml`` as a fresh process, against
   ``octodns-sync`` planning one zone of 20 records.
3. http, rate, httpplan: ``reconciler apply`` and ``plan`` over ``--backend http`` against
   ``sandbox serve`` (latency, a rate limit), each against its ideal (bench/http.py).
4. sandbox: the sandbox server's own cost a request, by kind (a link page, a channel page,
   the workspace, a create): wall and server CPU milliseconds, at no latency and 25 ms, by one
   client and eight (bench/sandbox.py).
5. scale: ``reconciler plan`` at 10k, 100k and 1M links: time and memory.
6. qr: the page of links (``links --format html``) and ``reconciler qr`` (SVG and PNG) over
   1,000 links of the local store: cold (no codes yet) and a re-run over the same links (every
   file unchanged); the page's size.

Every figure is printed as a markdown table and saved to bench/results/latest.json; copy
them into docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ROOT, generate, http, octodns_fixture, sandbox

OCTODNS_VERSION = "1.22.0"
RSS_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
took = time.perf_counter() - start
print(took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def run_measured(
    cmd: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one run of ``cmd`` as a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_WRAPPER, *cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2])


def median_of(
    cmd: Sequence[str],
    runs: int,
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    ok: Sequence[int] = (0,),
) -> dict[str, float]:
    times, rss = [], []
    for _ in range(runs):
        seconds, peak, code = run_measured(cmd, cwd=cwd, env=env)
        if code not in ok:
            raise SystemExit(f"{' '.join(cmd)} exited {code}")
        times.append(seconds)
        rss.append(peak)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "runs": runs,
        "peak_rss_mb": max(rss),
    }


def reconciler_cmd() -> list[str]:
    exe = shutil.which("reconciler")
    return [exe] if exe else [sys.executable, "-m", "reconciler"]


def octodns_sync(work: Path) -> list[str]:
    """octodns-sync from its own venv (created on first use)."""
    venv = work / "octodns-venv"
    exe = venv / "bin" / "octodns-sync"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"octodns=={OCTODNS_VERSION}"], check=True
        )
    return [str(exe)]


def event_floor(config: Path, runs: int) -> float:
    """Median seconds for libyaml's C parser to stream every event of ``config``."""
    code = (
        "import sys, time, yaml\n"
        "text = open(sys.argv[1], encoding='utf-8').read()\n"
        "start = time.perf_counter()\n"
        "for _ in yaml.parse(text, Loader=yaml.CSafeLoader): pass\n"
        "print(time.perf_counter() - start)\n"
    )
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code, str(config)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times)


# --- the benchmarks ------------------------------------------------------------------------


def bench_plan(work: Path, quick: bool, *, octodns: bool = True) -> dict[str, object]:
    channels = 200 if quick else 2000
    runs, octo_runs = (3, 1) if quick else (5, 3)
    data = work / f"plan-{channels}x50"
    config = generate.generate(data, channels, 50, 0.10)
    ours = median_of(
        [*reconciler_cmd(), "plan", str(config), "--store", str(data / "workspace.db"), "--force"],
        runs,
        cwd=data,
    )
    floor = event_floor(config, runs)
    result: dict[str, object] = {
        "links": channels * 50,
        "config_mb": round(config.stat().st_size / 2**20, 1),
        "reconciler": ours,
        "event_floor_s": floor,
        "ratio_to_floor": ours["median_s"] / floor,
    }
    if octodns:
        octo_config = octodns_fixture.generate(data, channels, 50, 0.10)
        octo_cmd = [*octodns_sync(work), "--config-file", str(octo_config)]
        octo = median_of(octo_cmd, octo_runs, cwd=data)
        result |= {"octodns": octo, "speedup_vs_octodns": octo["median_s"] / ours["median_s"]}
    return result


def bench_floor(work: Path, quick: bool) -> dict[str, object]:
    """``plan`` against the event-stream floor alone (octoDNS not run)."""
    return bench_plan(work, quick, octodns=False)


def bench_cold(work: Path, quick: bool) -> dict[str, object]:
    runs = 5 if quick else 20
    data = work / "cold"
    data.mkdir(parents=True, exist_ok=True)
    store = data / "workspace.db"
    store.unlink(missing_ok=True)
    cmd = reconciler_cmd()
    for account in ("acmepets", "acmepets.global"):
        subprocess.run(
            [*cmd, "sandbox", "connect", account, "--store", str(store)],
            check=True,
            capture_output=True,
        )
    example = ROOT / "examples" / "workspace.yaml"
    subprocess.run(
        [*cmd, "apply", str(example), "--store", str(store), "--auto-approve"],
        check=True,
        capture_output=True,
    )
    ours = median_of([*cmd, "plan", str(example), "--store", str(store)], runs, cwd=data)
    octo_config = octodns_fixture.generate(data, 1, 20, 0.10)
    octo = median_of([*octodns_sync(work), "--config-file", str(octo_config)], runs, cwd=data)
    return {
        "reconciler": ours,
        "octodns_20_records": octo,
        "ratio": ours["median_s"] / octo["median_s"],
    }


def bench_scale(work: Path, quick: bool) -> dict[str, object]:
    sizes = [(200, 50), (2000, 50)] if quick else [(200, 50), (2000, 50), (20000, 50)]
    out = {}
    env = dict(os.environ, RECONCILER_MAX_CONFIG_MB="512")
    for channels, links in sizes:
        data = work / f"plan-{channels}x{links}"
        config = data / "workspace.yaml"
        if not config.exists():
            generate.generate(data, channels, links, 0.10)
        out[str(channels * links)] = median_of(
            [
                *reconciler_cmd(),
                "plan",
                str(config),
                "--store",
                str(data / "workspace.db"),
                "--force",
            ],
            1 if channels >= 20000 else 3,
            cwd=data,
            env=env,
        )
    return out


def bench_qr(work: Path, quick: bool) -> dict[str, object]:
    channels, runs = (4, 1) if quick else (20, 3)
    data = work / f"qr-{channels}x50"
    generate.generate(data, channels, 50, 0.10)
    store = str(data / "workspace.db")
    cmd = reconciler_cmd()
    page = data / "links.html"
    result: dict[str, object] = {"links": channels * 50}
    result["page"] = median_of(
        [*cmd, "links", "--store", store, "--format", "html", "--out", str(page)], runs, cwd=data
    )
    result["page_mb"] = round(page.stat().st_size / 2**20, 2)
    for fmt in ("svg", "png"):
        out = data / f"codes-{fmt}"
        qr_cmd = [*cmd, "qr", "--store", store, "--format", fmt, "--out", str(out)]
        colds = []
        for _ in range(runs):
            shutil.rmtree(out, ignore_errors=True)
            colds.append(median_of(qr_cmd, 1, cwd=data)["median_s"])
        result[f"qr_{fmt}_cold_s"] = statistics.median(colds)
        result[f"qr_{fmt}_rerun"] = median_of(qr_cmd, runs, cwd=data)
    return result


BENCHES = {
    "plan": bench_plan,
    "floor": bench_floor,
    "cold": bench_cold,
    "http": http.bench_apply,
    "rate": http.bench_rate,
    "httpplan": http.bench_plan,
    "sandbox": sandbox.bench_sandbox,
    "scale": bench_scale,
    "qr": bench_qr,
}


def main() -> None:
    parser = argparse.ArgumentParser(description="reconciler benchmarks")
    parser.add_argument("which", nargs="*", choices=[*BENCHES, []], default=[])
    parser.add_argument("--quick", action="store_true", help="smaller and fewer runs")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "reconciler-bench"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    out = ROOT / "bench" / "results" / ("quick.json" if args.quick else "latest.json")
    # A run of some benchmarks keeps the others' figures, each with the date it was taken.
    results: dict[str, Any] = json.loads(out.read_text("utf-8")) if out.exists() else {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    results.update(
        date=now,
        machine=f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.platform()}",
        quick=args.quick,
    )
    dates = results.setdefault("dates", {})
    for name in args.which or list(BENCHES):
        print(f"running {name}...", file=sys.stderr, flush=True)
        results[name] = BENCHES[name](args.work, args.quick)
        dates[name] = now
        print(json.dumps(results[name], indent=2), flush=True)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"saved {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
