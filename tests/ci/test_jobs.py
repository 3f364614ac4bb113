"""``reconciler ci plan|apply|drift`` on a scratch links repository against its local
workspace, as a CI job runs them: the files, the comment and its marker, the exit codes,
the job summary and step outputs, every refusal by its type's wording."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from reconciler.backends.local import LocalBackend
from tests.ci.conftest import CONFIG, Run, read_outputs, store
from tests.helpers import assert_valid_plan_json


def head(root: Path) -> str:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_plan_writes_the_comment_the_saved_plan_the_summary_and_the_outputs(
    repo: Path, ci: Run, tmp_path: Path
) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    result = ci(
        "plan", "workspace.yaml", "--out", "out",
        GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "reconciler ci: plan of workspace.yaml: changes" in result.stderr
    out = repo / "out" / "workspace"
    assert sorted(p.name for p in out.iterdir()) == ["comment.md", "plan.json", "plan.md"]
    comment = read(out / "comment.md")
    lines = comment.splitlines()
    assert lines[0] == "<!-- reconciler-plan: workspace.yaml -->"
    assert "**reconciler** — Plan: 2 to create." in lines[1:4]
    assert "### Acme Pets (US) (`acmepets`)" in comment
    assert f"at `{head(repo)[:12]}`" in lines[-1]
    assert "Merging applies exactly this plan" in lines[-1]
    plan_md = read(out / "plan.md")
    assert comment.startswith(lines[0] + "\n" + plan_md.rstrip("\n") + "\n")
    assert read(summary) == plan_md
    saved = assert_valid_plan_json(read(out / "plan.json"))
    assert saved["summary"]["create"] == 2 and "desired" in saved and "prior_state" in saved
    assert "signature" not in saved  # no plan key set
    assert read_outputs(output) == {
        "has-changes": "true",
        "plan-file": str(out / "plan.json"),
        "comment-file": str(out / "comment.md"),
    }


def test_several_configs_each_with_its_marker_and_directory(
    repo: Path, ci: Run, tmp_path: Path
) -> None:
    (repo / "links").mkdir()
    (repo / "links" / "us.yaml").write_text(CONFIG.replace("June", "July"), encoding="utf-8")
    output = tmp_path / "output"
    result = ci("plan", "workspace.yaml", "links/us.yaml", "--out", "o", GITHUB_OUTPUT=str(output))
    assert result.returncode == 2, result.stderr
    first = read(repo / "o" / "workspace" / "comment.md")
    second = read(repo / "o" / "links-us" / "comment.md")
    assert first.startswith("<!-- reconciler-plan: workspace.yaml -->\n")
    assert second.startswith("<!-- reconciler-plan: links/us.yaml -->\n")
    found = read_outputs(output)
    assert found["comment-file"].splitlines() == [
        str(repo / "o" / "workspace" / "comment.md"),
        str(repo / "o" / "links-us" / "comment.md"),
    ]
    assert len(found["plan-file"].splitlines()) == 2
    # Two configs that would share a directory are refused before anything runs.
    (repo / "links-us.yaml").write_text(CONFIG, encoding="utf-8")
    clash = ci("plan", "links/us.yaml", "links-us.yaml", "--out", "c")
    assert clash.returncode == 1
    assert "would both write their CI files to 'links-us'" in clash.stderr
    assert not (repo / "c").exists()


def test_plan_exit_codes_and_comments(repo: Path, ci: Run, reconciler: Run) -> None:
    assert ci("plan", "workspace.yaml", "--out", "p1").returncode == 2
    assert ci("apply", "workspace.yaml", "--plans", "p1").returncode == 0
    # Nothing to change: 0.
    result = ci("plan", "workspace.yaml", "--out", "p2", "--commit", "abc123")
    assert result.returncode == 0, result.stderr
    comment = read(repo / "p2" / "workspace" / "comment.md")
    assert "**reconciler** — No changes." in comment.splitlines()[1:4]
    assert "at `abc123`. Nothing to apply." in comment
    # An invalid config: 1, the comment has each problem with its position, and the log has
    # them as GitHub annotations at their lines.
    (repo / "bad.yaml").write_text("version: 1\nchannels:\n  - acount: x\n", encoding="utf-8")
    result = ci("plan", "bad.yaml", "--out", "p3")
    assert result.returncode == 1
    comment = read(repo / "p3" / "bad" / "comment.md")
    assert comment.splitlines()[:3] == [
        "<!-- reconciler-plan: bad.yaml -->",
        "**reconciler** — ❌ Could not plan `bad.yaml`.",
        "",
    ]
    assert "bad.yaml:3:" in comment and "```text" in comment
    assert "This plan cannot be applied" in comment.splitlines()[-1]
    assert not (repo / "p3" / "bad" / "plan.json").exists()
    assert "::error file=bad.yaml,line=3,col=" in result.stdout
    assert all(line.startswith("::error ") for line in result.stdout.splitlines())
    # A plan with an error (changes for a disconnected channel): 1, the plan in full.
    (repo / "more.yaml").write_text(CONFIG.replace("June", "July"), encoding="utf-8")
    assert reconciler("sandbox", "disconnect", "acmepets").returncode == 0
    result = ci("plan", "more.yaml", "--out", "p4")
    assert result.returncode == 1
    comment = read(repo / "p4" / "more" / "comment.md")
    assert "> [!CAUTION]" in comment and "`channel-disconnected`" in comment
    assert "**reconciler** — Plan: 1 to regenerate (NEW URL)." in comment


def test_the_http_backend_without_a_key_says_where_to_put_it(repo: Path, ci: Run) -> None:
    result = ci(
        "plan", "workspace.yaml", "--out", "p",
        RECONCILER_BACKEND="http", SLEEKFLOW_API_URL="http://127.0.0.1:9",
    )  # fmt: skip
    assert result.returncode == 1
    comment = read(repo / "p" / "workspace" / "comment.md")
    assert "SLEEKFLOW_API_KEY is empty" in comment and "Secrets and variables" in comment


def test_apply_refuses_a_stale_plan_and_removals_without_opt_in(repo: Path, ci: Run) -> None:
    assert ci("plan", "workspace.yaml", "--out", "p").returncode == 2
    # The workspace moves after the review (a link made in the UI): refused, nothing changes.
    backend = LocalBackend(store(repo))
    try:
        channel = backend.read().channel("acmepets")
        assert channel is not None
        backend.create_link(channel.id, title="From the UI", ref=None, message="Hey", key="ui-1")
        before = backend.read()
    finally:
        backend.close()
    result = ci("apply", "workspace.yaml", "--plans", "p", "--out", "a")
    assert result.returncode == 1
    assert "reconciler ci: apply of workspace.yaml: NOT applied" in result.stderr
    report = read(repo / "a" / "workspace" / "apply.md")
    assert report.startswith("**reconciler** — ❌ The reviewed plan was not applied (or not")
    assert "the plan is stale" in report
    backend = LocalBackend(store(repo))
    try:
        assert backend.read() == before
    finally:
        backend.close()
    # A fresh plan removes the UI's link: refused unless the team opted in.
    assert ci("plan", "workspace.yaml", "--out", "p2").returncode == 2
    result = ci("apply", "workspace.yaml", "--plans", "p2", "--out", "a2")
    assert result.returncode == 1
    report = read(repo / "a2" / "workspace" / "apply.md")
    assert "`allow-removals`" in report and "RECONCILER_ALLOW_REMOVALS" in report
    result = ci(
        "apply", "workspace.yaml", "--plans", "p2", "--out", "a3",
        RECONCILER_ALLOW_REMOVALS="true",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = read(repo / "a3" / "workspace" / "apply.md")
    assert report.startswith("**reconciler** — applied the reviewed plan.")
    assert "Apply complete: 3 changes applied." in report
    assert "Apply complete" in result.stdout  # and in the job's log


def test_apply_refuses_a_config_that_changed_since_the_plan(repo: Path, ci: Run) -> None:
    assert ci("plan", "workspace.yaml", "--out", "p").returncode == 2
    config = repo / "workspace.yaml"
    config.write_text(read(config).replace("June", "July"), encoding="utf-8")
    result = ci("apply", "workspace.yaml", "--plans", "p", "--out", "a")
    assert result.returncode == 1
    assert "was not made from workspace.yaml as it is now" in read(
        repo / "a" / "workspace" / "apply.md"
    )


def test_a_directory_of_configs_plans_and_applies_as_one(repo: Path, ci: Run) -> None:
    # issue 15: a team's files in one directory are one config, one comment, one plan
    teams = repo / "teams"
    (teams / "us").mkdir(parents=True)
    (teams / "us" / "acmepets.yaml").write_text(CONFIG, encoding="utf-8")
    (teams / "zz-empty.yml").write_text("version: 1\nchannels: []\n", encoding="utf-8")
    assert ci("plan", "teams", "--out", "p").returncode == 2
    comment = read(repo / "p" / "teams" / "comment.md")
    assert comment.startswith("<!-- reconciler-plan: teams -->\n")
    saved = json.loads(read(repo / "p" / "teams" / "plan.json"))
    assert sorted(saved["config_files"]) == ["teams/us/acmepets.yaml", "teams/zz-empty.yml"]
    # a file added to the directory after the review: refused, nothing applied
    (teams / "late.yaml").write_text("version: 1\nchannels: []\n", encoding="utf-8")
    refused = ci("apply", "teams", "--plans", "p", "--out", "a")
    assert refused.returncode == 1
    assert "teams/late.yaml: a config file the plan was not made from" in read(
        repo / "a" / "teams" / "apply.md"
    )
    (teams / "late.yaml").unlink()
    applied = ci("apply", "teams", "--plans", "p", "--out", "b")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete: 2 changes applied." in read(repo / "b" / "teams" / "apply.md")


def test_apply_without_a_reviewed_plan(repo: Path, ci: Run) -> None:
    result = ci("apply", "workspace.yaml", "--plans", "missing", "--out", "a")
    assert result.returncode == 1
    assert "No reviewed plan at missing/workspace/plan.json" in read(
        repo / "a" / "workspace" / "apply.md"
    )


def test_signed_plans_apply_only_with_their_key_and_the_key_is_never_shown(
    repo: Path, ci: Run
) -> None:
    key = "plan-key-4f1d9c2b-NEVER-SHOWN"
    planned = ci("plan", "workspace.yaml", "--out", "p", RECONCILER_PLAN_KEY=key)
    assert planned.returncode == 2
    saved = json.loads(read(repo / "p" / "workspace" / "plan.json"))
    assert saved["signature"]
    refused = ci(
        "apply", "workspace.yaml", "--plans", "p", "--out", "a", RECONCILER_PLAN_KEY="other"
    )
    assert refused.returncode == 1
    applied = ci("apply", "workspace.yaml", "--plans", "p", "--out", "b", RECONCILER_PLAN_KEY=key)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for result in (planned, refused, applied):
        assert key not in result.stdout + result.stderr
    for path in repo.rglob("*.md"):
        assert key not in read(path)


def test_drift(repo: Path, ci: Run, reconciler: Run) -> None:
    assert ci("plan", "workspace.yaml", "--out", "p").returncode == 2
    assert ci("apply", "workspace.yaml", "--plans", "p").returncode == 0
    result = ci("drift", "workspace.yaml", "--out", "d")
    assert result.returncode == 0, result.stderr
    body = read(repo / "d" / "workspace" / "drift.md")
    assert body.splitlines() == [
        "<!-- reconciler-drift: workspace.yaml -->",
        "**reconciler** — no drift: the workspace matches `workspace.yaml`.",
    ]
    # Someone edits a link outside this repository: drift, exit 2, the issue body shows it.
    (repo / "elsewhere.yaml").write_text(CONFIG.replace("June", "July"), encoding="utf-8")
    assert reconciler("apply", "elsewhere.yaml", "--auto-approve").returncode == 0
    result = ci("drift", "workspace.yaml", "--out", "d")
    assert result.returncode == 2
    assert "reconciler ci: drift of workspace.yaml: DRIFT" in result.stderr
    body = read(repo / "d" / "workspace" / "drift.md")
    assert body.startswith("<!-- reconciler-drift: workspace.yaml -->\n**Drift:** the workspace")
    assert "**reconciler** — Plan: 1 to regenerate (NEW URL)." in body
    # A disconnected channel fails the night even with nothing to change.
    assert ci("apply", "workspace.yaml", "--plans", "d").returncode == 0
    assert reconciler("sandbox", "disconnect", "acmepets").returncode == 0
    result = ci("drift", "workspace.yaml", "--out", "d")
    assert result.returncode == 1
    body = read(repo / "d" / "workspace" / "drift.md")
    assert "found errors. Disconnected: `acmepets`." in body


def test_several_configs_exit_with_the_worst(repo: Path, ci: Run) -> None:
    (repo / "bad.yaml").write_text("version: 2\nchannels: []\n", encoding="utf-8")
    result = ci("plan", "workspace.yaml", "bad.yaml", "--out", "o")
    assert result.returncode == 1
    assert "plan of workspace.yaml: changes" in result.stderr
    assert "plan of bad.yaml: error" in result.stderr
    assert (repo / "o" / "workspace" / "plan.json").is_file()


def test_apply_writes_the_page_of_links_and_none_without_a_workspace(
    repo: Path, ci: Run, tmp_path: Path
) -> None:
    from reconciler import ci as jobs

    assert ci("plan", "workspace.yaml", "--out", "plans").returncode == 2
    output = tmp_path / "output"
    result = ci(
        "apply", "workspace.yaml", "--plans", "plans", "--out", "out", GITHUB_OUTPUT=str(output)
    )
    assert result.returncode == 0, result.stderr
    page = repo / "out" / "workspace" / "links.html"
    assert read_outputs(output)["links-page"] == str(page)
    html = read(page)
    state = LocalBackend(store(repo)).read()
    urls = [lk.url.replace("&", "&amp;") for c in state.channels for lk in c.links]
    assert len(urls) == 2 and all(html.count(f">{u}</a>") == 1 for u in urls)
    assert "2 links got a new URL" not in html and "in the last 30 days" in html

    # a workspace that can't be read: no page, and no error of its own
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all" * 100)
    job = jobs.Job(workspace=lambda: LocalBackend(broken))
    out = tmp_path / "nothing"
    out.mkdir()
    assert jobs.links_page(str(repo / "workspace.yaml"), out, job.workspace(), job) is None
    assert list(out.iterdir()) == []


def test_an_out_directory_that_cannot_be_made_is_a_clear_error(
    repo: Path, ci: Run, tmp_path: Path
) -> None:
    """``--out`` under a regular file (or /proc): the job says it can't write there and
    exits 1; it was an "internal error" (FileNotFoundError, NotADirectoryError)."""
    (repo / "afile").write_text("x", encoding="utf-8")
    assert ci("plan", "workspace.yaml", "--out", "plans").returncode == 2
    for args in (
        ["plan", "workspace.yaml", "--out", "afile/out"],
        ["drift", "workspace.yaml", "--out", "afile/out"],
        ["apply", "workspace.yaml", "--plans", "plans", "--out", "afile/out"],
    ):
        result = ci(*args)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "cannot write afile/out/workspace: Not a directory" in result.stderr
    assert LocalBackend(store(repo)).read().channels[0].links == ()  # nothing applied
