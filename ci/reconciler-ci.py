#!/usr/bin/env python3
"""CI glue for reconciler: everything the GitHub workflow does except talking to GitHub.

    python ci/reconciler-ci.py plan  CONFIG [--out DIR] [--commit SHA]
    python ci/reconciler-ci.py apply CONFIG --plan PLANFILE [--out DIR] [--allow-removals]
    python ci/reconciler-ci.py drift CONFIG [--out DIR]

plan   runs ``reconciler plan CONFIG --format markdown --out DIR/plan.json
       --detailed-exitcode`` and writes, in DIR:
         plan.json    the saved plan (the JSON plan plus what it was made from): the artifact
                      that apply-on-merge applies, refused if it is stale;
         plan.md      the markdown plan;
         comment.md   the pull-request comment: a marker line (``<!-- reconciler-plan: CONFIG
                      -->``) that the workflow finds its comment by, the plan, and a footer.
       Exits 0 when there are no changes, 2 when there are, 1 on any error (invalid config,
       unreachable API, a plan that cannot be applied): the comment says what went wrong.
apply  runs ``reconciler apply --plan PLANFILE CONFIG --auto-approve`` (and
       ``--allow-removals`` only when given it or when RECONCILER_ALLOW_REMOVALS is true), and
       writes DIR/apply.md. Exits 0 when applied, 1 when refused (a stale plan, a config that
       changed since the plan, removals not allowed) or failed.
drift  runs ``reconciler plan CONFIG --format markdown --detailed-exitcode`` and writes
       DIR/drift.md (with a ``<!-- reconciler-drift: CONFIG -->`` marker line). Exits 0 when
       the workspace matches CONFIG, 2 when it has drifted, 1 on error, including a declared
       channel that is disconnected (an expired token: a plan only warns about it when it
       has nothing to change there, but a nightly check must not stay green).

Every command also appends its markdown to $GITHUB_STEP_SUMMARY when that is set. The
workspace is whatever reconciler's own variables say (RECONCILER_BACKEND, SLEEKFLOW_API_URL,
RECONCILER_STORE); the API key is read by reconciler from SLEEKFLOW_API_KEY and never
passed on a command line, printed or written by this script.

Standard library only, so a team can copy it next to the workflow that calls it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: GitHub refuses a comment over 65,536 characters; the plan stays under 65,000, and what
#: this script adds (marker, footer) must fit in the rest.
COMMENT_LIMIT = 65_536
#: At most this many characters of an error's output go into a comment...
ERROR_OUTPUT_LIMIT = 20_000
#: ...and of apply's report (its full text is in the job's log).
APPLY_OUTPUT_LIMIT = 60_000
ARTIFACT = "reconciler-plan"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reconciler-ci", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan", help="plan CONFIG for a pull request")
    p.add_argument("config")
    p.add_argument("--out", default=ARTIFACT, help="directory for the outputs")
    p.add_argument("--commit", help="commit the plan is for (default: git HEAD)")
    a = sub.add_parser("apply", help="apply a reviewed, saved plan")
    a.add_argument("config")
    a.add_argument("--plan", required=True, dest="plan_file", help="the saved plan.json")
    a.add_argument("--out", default="reconciler-apply", help="directory for the outputs")
    a.add_argument("--allow-removals", action="store_true")
    d = sub.add_parser("drift", help="check that the workspace still matches CONFIG")
    d.add_argument("config")
    d.add_argument("--out", default="reconciler-drift", help="directory for the outputs")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.command == "plan":
        return plan(args.config, out, commit=args.commit)
    if args.command == "apply":
        allow = args.allow_removals or truthy(os.environ.get("RECONCILER_ALLOW_REMOVALS"))
        return apply(args.config, Path(args.plan_file), out, allow_removals=allow)
    return drift(args.config, out)


# --- the three jobs ------------------------------------------------------------------------------


def plan(config: str, out: Path, *, commit: str | None) -> int:
    """The pull-request plan: plan.json, plan.md and comment.md in ``out``; 0, 2 or 1."""
    plan_json = out / "plan.json"
    plan_json.unlink(missing_ok=True)
    problem = missing_api_key()
    if problem:
        code, markdown = 1, failure(f"Could not plan {code_span(config)}.", problem)
    else:
        result = reconciler(
            "plan", config, "--format", "markdown", "--out", str(plan_json), "--detailed-exitcode"
        )
        code = result.returncode if result.returncode in (0, 1, 2) else 1
        if result.stdout.strip():
            markdown = result.stdout  # the plan, printed in full even when it has errors
        else:
            markdown = failure(f"Could not plan {code_span(config)}.", result.stderr)
    (out / "plan.md").write_text(markdown, encoding="utf-8")
    sha = commit or git_head()
    footer = [
        "",
        "---",
        f"<sub>Plan of {code_span(config)}"
        + (f" at {code_span(sha[:12])}" if sha else "")
        + (f" ([run]({run_url()}))" if run_url() else "")
        + ". "
        + {
            0: "Nothing to apply.",
            2: f"Merging applies exactly this plan (saved as the `{ARTIFACT}` artifact); "
            "if the workspace changes before, the apply refuses it and changes nothing.",
        }.get(code, "This plan cannot be applied: fix what it says and push again.")
        + "</sub>",
    ]
    head = [marker("reconciler-plan", config), markdown.rstrip("\n")]
    comment = "\n".join([*head, *footer]) + "\n"
    if units(comment) > COMMENT_LIMIT:
        comment = "\n".join(head) + "\n"  # the plan is what matters; it fits by itself
    (out / "comment.md").write_text(comment, encoding="utf-8")
    step_summary(markdown)
    say(f"plan of {config}: " + {0: "no changes", 2: "changes"}.get(code, "error"))
    return code


def apply(config: str, plan_file: Path, out: Path, *, allow_removals: bool) -> int:
    """Apply the reviewed plan ``plan_file``; apply.md in ``out``; 0 or 1."""
    if not plan_file.is_file():
        message = (
            f"No reviewed plan at {plan_file}: nothing was applied. Changes to {config} are "
            "applied from the plan reviewed in their pull request; open one."
        )
        return finish_apply(out, 1, failure("Nothing was applied.", message))
    problem = missing_api_key()
    if problem:
        return finish_apply(out, 1, failure("Nothing was applied.", problem))
    args = ["apply", "--plan", str(plan_file), config, "--auto-approve"]
    if allow_removals:
        args.append("--allow-removals")
    result = reconciler(*args, echo=True)
    code = 0 if result.returncode == 0 else 1
    output = (result.stdout + result.stderr).rstrip("\n")
    if code == 0:
        markdown = "**reconciler** — applied the reviewed plan.\n\n" + fenced(
            cut_middle(output, APPLY_OUTPUT_LIMIT)
        )
    else:
        hint = ""
        if "--allow-removals" in output and not allow_removals:
            hint = (
                "\n\nThe plan removes something and this repository does not allow removals "
                "from CI: set the repository variable RECONCILER_ALLOW_REMOVALS to true, or "
                "apply it by hand with --allow-removals."
            )
        markdown = (
            failure("The reviewed plan was not applied (or not in full: see below).", output)
            + hint
            + "\n"
        )
    return finish_apply(out, code, markdown)


def finish_apply(out: Path, code: int, markdown: str) -> int:
    (out / "apply.md").write_text(markdown, encoding="utf-8")
    step_summary(markdown)
    say("apply: " + ("done" if code == 0 else "NOT applied"))
    return code


def drift(config: str, out: Path) -> int:
    """The nightly check: drift.md in ``out``; 0 no drift, 2 drift, 1 error."""
    problem = missing_api_key()
    plan_markdown = ""
    if problem:
        code, markdown = 1, failure(f"Could not check {code_span(config)} for drift.", problem)
    else:
        result = reconciler(
            "plan", config, "--format", "markdown", "--detailed-exitcode", "--out",
            str(out / "plan.json"),
        )  # fmt: skip
        code = result.returncode if result.returncode in (0, 1, 2) else 1
        plan_markdown = result.stdout
        disconnected = disconnected_channels(out / "plan.json")
        if code == 0 and disconnected:
            # No change to make, but messages to these channels no longer reach SleekFlow:
            # the nightly check is where a token expiry must show.
            code = 1
        if code == 0:
            markdown = f"**reconciler** — no drift: the workspace matches {code_span(config)}.\n"
        elif code == 2:
            markdown = (
                f"**Drift:** the workspace no longer matches {code_span(config)}. Someone "
                "changed it outside this repository (in SleekFlow's UI, or another tool), or "
                "a merged change was not applied. Applying the config as it is would make "
                "these changes; if the workspace is right, change the config instead.\n\n"
                + result.stdout
            )
        elif result.stdout.strip():
            which = ", ".join(code_span(a) for a in disconnected)
            extra = f" Disconnected: {which}." if disconnected else ""
            markdown = (
                f"**reconciler** — ❌ the check of {code_span(config)} found errors.{extra}\n\n"
                + result.stdout
            )
        else:
            markdown = failure(f"Could not check {code_span(config)} for drift.", result.stderr)
    body = marker("reconciler-drift", config) + "\n" + markdown
    if units(body) > COMMENT_LIMIT:
        body = marker("reconciler-drift", config) + "\n" + plan_markdown
    (out / "drift.md").write_text(body, encoding="utf-8")
    step_summary(markdown)
    say(f"drift check of {config}: " + {0: "no drift", 2: "DRIFT"}.get(code, "error"))
    return code


# --- helpers ------------------------------------------------------------------------------------


def reconciler(*args: str, echo: bool = False) -> subprocess.CompletedProcess[str]:
    """Run reconciler with this environment (its own variables pick the workspace), without
    colour; its stderr (and with ``echo`` its stdout) is copied to ours for the job's log,
    less the hint to apply a saved plan by hand (in CI the merge does that)."""
    command = [shutil.which("reconciler") or "", *args]
    if not command[0]:
        command = [sys.executable, "-m", "reconciler", *args]
    env = dict(os.environ, NO_COLOR="1")
    result = subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", env=env, check=False
    )
    if echo:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
    sys.stderr.write(
        "".join(
            line
            for line in result.stderr.splitlines(keepends=True)
            if not line.startswith("Saved the plan to ")
        )
    )
    return result


def missing_api_key() -> str | None:
    """Why the http backend can't work here, if it can't: no API key in the environment."""
    backend = os.environ.get("RECONCILER_BACKEND", "local")
    if backend == "http" and not os.environ.get("SLEEKFLOW_API_KEY"):
        return (
            "SLEEKFLOW_API_KEY is empty. Add the API key as a repository secret named "
            "SLEEKFLOW_API_KEY (Settings > Secrets and variables > Actions). Workflows of pull "
            "requests from forks get no secrets, so they cannot plan."
        )
    return None


def disconnected_channels(plan_file: Path) -> list[str]:
    """The accounts a saved plan reports as disconnected (none if it can't be read)."""
    try:
        data = json.loads(plan_file.read_text(encoding="utf-8"))
        return sorted(
            str(d["channel"])
            for d in data["diagnostics"]
            if d.get("code") == "channel-disconnected" and d.get("channel")
        )
    except (OSError, ValueError, KeyError, TypeError):
        return []


def marker(kind: str, config: str) -> str:
    """The first line of a comment or issue, that the workflow finds it by: one per config
    file (a long path is named by its hash)."""
    safe = re.sub(r"[^A-Za-z0-9._/-]", "_", config).replace("--", "__")
    if len(safe) > 100:
        safe = "sha256-" + hashlib.sha256(config.encode("utf-8", "surrogatepass")).hexdigest()
    return f"<!-- {kind}: {safe} -->"


def failure(headline: str, output: str) -> str:
    """Markdown for an error: a headline and the command's output in a code block."""
    output = output.strip("\n") or "(no output)"
    if len(output) > ERROR_OUTPUT_LIMIT:
        half = ERROR_OUTPUT_LIMIT // 2
        output = (
            f"{output[:half]}\n[... {len(output) - 2 * half} characters left out ...]\n"
            + (output[-half:])
        )
    return f"**reconciler** — ❌ {headline}\n\n{fenced(output)}"


def units(text: str) -> int:
    """Length in UTF-16 code units: how the strictest of GitHub's checks counts."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut_middle(text: str, limit: int) -> str:
    """``text`` with whole lines left out of its middle so that it has at most about
    ``limit`` UTF-16 code units: a third from the start, the rest from the end (where apply prints
    the URLs to replace)."""
    if units(text) <= limit:
        return text
    lines = text.split("\n")
    head: list[str] = []
    used = 0
    for line in lines:
        if used + units(line) + 1 > limit // 3:
            break
        head.append(line)
        used += units(line) + 1
    tail: list[str] = []
    for line in reversed(lines[len(head) :]):
        if used + units(line) + 1 > limit:
            break
        tail.append(line)
        used += units(line) + 1
    tail.reverse()
    left_out = len(lines) - len(head) - len(tail)
    return "\n".join([*head, f"[... {left_out} lines left out ...]", *tail])


def fenced(text: str) -> str:
    """``text`` in a fenced code block no line of it can close."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}text\n{text}\n{fence}\n"


def code_span(text: str) -> str:
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return (
        f"{fence} {text} {fence}"
        if text.startswith("`") or text.endswith("`")
        else (f"{fence}{text}{fence}")
    )


def git_head() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def run_url() -> str | None:
    """The URL of this workflow run on GitHub, when running there."""
    server, repo, run = (
        os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def step_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n")


def say(message: str) -> None:
    print(f"reconciler-ci: {message}", file=sys.stderr, flush=True)


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


if __name__ == "__main__":
    sys.exit(main())
