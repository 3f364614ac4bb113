"""Teams sharing one workspace, through the command line (issue 15): configs in many files,
links made in the UI left alone (``prune: false``), "same link" across an edit
(``renamed_from``), and removals that show what they take.

The stories that involve the workspace run against both backends: the local store, and a
real ``sandbox serve`` process over HTTP (``pytest.mark.http`` on the parameter)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.backends.local import LocalBackend
from reconciler.model import link_url
from tests.runners import Cli, HttpCli, body

BACKENDS = ["local", pytest.param("http", marks=pytest.mark.http)]
BLACK_FRIDAY = "Black Friday: 40% off everything!"
CYBER_MONDAY = "Cyber Monday: 30% off online!"


def dump(path: Path, channels: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump({"version": 1, "channels": channels}, sort_keys=False), encoding="utf-8"
    )
    return path


def brand(account: str, *titles: str, **extra: Any) -> dict[str, Any]:
    links = [
        {"title": t, "ref": t.lower().replace(" ", "_"), "message": f"Hi {t}!"} for t in titles
    ]
    return {"account": account, "display_name": account.title(), **extra, "links": links}


def connect(run: Cli, *accounts: str) -> None:
    for account in accounts:
        run("sandbox", "connect", account, "--display-name", account.title())


def create_in_the_ui(run: Cli, account: str, title: str, message: str) -> None:
    """A link made next to the managed ones, as a marketer does in SleekFlow's UI: straight
    into the local store, or through the sandbox's API."""
    if isinstance(run, HttpCli):
        with run.server.client() as client:
            channels = client.get("/v1/tiktok/channels").json()["data"]
            (channel_id,) = [c["id"] for c in channels if c["account"] == account]
            created = client.post(
                f"/v1/tiktok/channels/{channel_id}/message-links",
                json={"title": title, "ref": None, "message": message},
                headers={"Idempotency-Key": "ui-" + title.replace(" ", "-")},
            )
            assert created.status_code == 201, created.text
        return
    backend = LocalBackend(run.store)
    try:
        channel = backend.read().channel(account)
        assert channel is not None
        backend.create_link(channel.id, title=title, ref=None, message=message, key=title)
    finally:
        backend.close()


# --- several files ----------------------------------------------------------------------------


def test_plan_of_a_directory_is_the_plan_of_one_file_holding_their_union(run: Cli) -> None:
    connect(run, "acmepets", "acme.de", "acme.jp")
    teams = run.tmp / "teams"
    us = brand("acmepets", "Bio", "VIP")
    de = brand("acme.de", "Bio")
    jp = brand("acme.jp", "Promo")
    dump(teams / "us.yaml", [us])
    dump(teams / "eu" / "de.yml", [de])
    dump(teams / "jp.yaml", [jp])
    union = dump(run.tmp / "union.yaml", [de, jp, us])  # path order: eu/de.yml, jp, us

    for fmt in ("text", "markdown"):
        assert (
            run("plan", teams, "--format", fmt).stdout == run("plan", union, "--format", fmt).stdout
        )
    of_dir = json.loads(run("plan", teams, "--format", "json").stdout)
    of_file = json.loads(run("plan", union, "--format", "json").stdout)
    assert of_dir["config_sha256"] != of_file["config_sha256"]  # other bytes...
    del of_dir["config_sha256"], of_file["config_sha256"]
    assert of_dir == of_file  # ...one plan
    assert of_dir["summary"]["create"] == 4
    # one file by one path, and the same files named one by one, plan the same
    assert (
        run("plan", teams / "eu", teams / "jp.yaml", teams / "us.yaml").stdout
        == run("plan", union).stdout
    )

    run("apply", teams, "--auto-approve")
    assert body(run("plan", union, "--detailed-exitcode").stdout).strip() == "No changes."
    # links and qr read the same PATHs: only the channels the files declare
    listed = run("links", teams / "eu", "--format", "json").stdout
    assert {row["channel"] for row in json.loads(listed)["links"]} == {"acme.de"}
    out = run("qr", teams / "jp.yaml", teams / "eu", "--out", run.tmp / "qr").stdout
    assert out.splitlines()[-1] == f"Wrote 2 QR codes to {run.tmp / 'qr'}."


def test_a_channel_in_two_files_is_one_error_with_both_positions(run: Cli) -> None:
    connect(run, "acmepets")
    teams = run.tmp / "teams"
    first = dump(teams / "a-us.yaml", [brand("acmepets", "Bio")])
    second = dump(teams / "b-promo.yaml", [brand("zoo"), brand("ACMEPETS", "Promo")])
    message = (
        f"{second}:6:12: channel 'ACMEPETS' is already declared at {first}:3:12; a channel is "
        "declared in one file only (accounts match ignoring case)"
    )
    checked = run("validate", teams, code=1)
    assert checked.stdout == f"{first}: valid\n"
    assert checked.stderr == f"{message}\n1 error found\n"
    planned = run("plan", teams, code=1)
    assert planned.stderr == f"{message}\n"
    assert run.links() == {}
    as_json = json.loads(run("validate", first, second, "--format", "json", code=1).stdout)
    assert [(p["path"], p["line"], p["col"], p["code"]) for p in as_json] == [
        (str(second), 6, 12, "declared-twice")
    ]


def test_a_saved_plan_is_refused_when_a_file_was_added_removed_or_changed(run: Cli) -> None:
    connect(run, "acmepets", "acme.de")
    teams = run.tmp / "teams"
    us = dump(teams / "us.yaml", [brand("acmepets", "Bio")])
    de = dump(teams / "de.yaml", [brand("acme.de", "Bio")])
    saved = run.tmp / "p.json"
    run("plan", teams, "--out", saved)
    recorded = json.loads(saved.read_text(encoding="utf-8"))["config_files"]
    assert sorted(recorded) == [str(de), str(us)]

    extra = dump(teams / "zz.yaml", [])  # added
    refused = run("apply", "--plan", saved, teams, code=1)
    assert f"{saved} was not made from {teams} as it is now" in refused.stderr
    assert f"  {extra}: a config file the plan was not made from\n" in refused.stderr
    extra.unlink()
    original = de.read_bytes()
    de.write_bytes(original + b"# reviewed? no\n")  # changed: the same desired state
    refused = run("apply", "--plan", saved, teams, code=1)
    assert f"  {de}: changed since the plan was made (its sha256 differs)\n" in refused.stderr
    de.write_bytes(original)
    refused = run("apply", "--plan", saved, us, code=1)  # removed
    assert f"  {de}: the plan was made from it, and it is not given now\n" in refused.stderr
    assert "acme.de: declared in the plan, not the config" in refused.stderr
    assert run.links() == {}  # nothing was changed by any of them

    run("apply", "--plan", saved, teams)
    assert len(run.links()) == 2


def test_out_never_overwrites_a_config_file_it_reads(run: Cli) -> None:
    """'plan teams --out teams/us.yaml' (a slip of the tab key) replaced the team's config
    with the plan's JSON; 'links FILE --out FILE' with the list of links. Refused, and
    nothing written."""
    connect(run, "acmepets")
    teams = run.tmp / "teams"
    us = dump(teams / "us.yaml", [brand("acmepets", "Bio")])
    before = us.read_bytes()
    for args in (
        ("plan", teams, "--out", us),
        ("plan", us, "--out", run.tmp / "teams" / ".." / "teams" / "us.yaml"),
        ("links", teams, "--out", us),
        ("links", us, "--format", "html", "--out", us),
    ):
        refused = run(*args, code=1)
        out = args[args.index("--out") + 1]
        assert f"{out}: is a config file being read: --out would overwrite it" in refused.stderr
        assert us.read_bytes() == before
    run("plan", teams, "--out", run.tmp / "plan.json")  # any other file is fine


def test_a_saved_plan_matches_its_files_however_they_are_spelled(
    run: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(run, "acmepets", "acme.de")
    made, other = run.tmp / "checkout", run.tmp / "other-checkout"
    for root in (made, other):
        dump(root / "teams" / "us.yaml", [brand("acmepets", "Bio")])
        dump(root / "teams" / "de.yaml", [brand("acme.de", "Bio")])
    saved = run.tmp / "p.json"
    monkeypatch.chdir(made)
    run("plan", "./teams/", "--out", saved)
    recorded = json.loads(saved.read_text(encoding="utf-8"))["config_files"]
    assert sorted(recorded) == ["teams/de.yaml", "teams/us.yaml"]  # the normal form

    # the same files, spelled otherwise, and from another checkout of the same repository
    monkeypatch.chdir(other)
    (other / "teams" / "de.yaml").write_bytes(b"# edited\n" + (made / "teams/de.yaml").read_bytes())
    refused = run("apply", "--plan", saved, other / "teams", code=1)
    assert refused.stderr.count("\n  ") == 1  # one file differs, named in the normal form
    assert "  teams/de.yaml: changed since the plan was made (its sha256 differs)\n" in (
        refused.stderr
    )
    (other / "teams" / "de.yaml").write_bytes((made / "teams/de.yaml").read_bytes())
    run("apply", "--plan", saved, str(other / "teams" / "de.yaml"), "teams/../teams/us.yaml")
    assert len(run.links()) == 2


def test_a_plan_saved_with_paths_as_spelled_still_applies(
    run: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(run, "acmepets")
    monkeypatch.chdir(run.tmp)
    us = dump(run.tmp / "teams" / "us.yaml", [brand("acmepets", "Bio")])
    saved = run.tmp / "p.json"
    run("plan", "teams", "--out", saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    digest = data["config_files"].pop("teams/us.yaml")
    data["config_files"]["./teams//us.yaml"] = digest  # as plans saved before recorded it
    saved.write_text(json.dumps(data), encoding="utf-8")
    us.write_bytes(us.read_bytes() + b"# changed\n")
    refused = run("apply", "--plan", saved, str(run.tmp / "teams") + "/", code=1)
    assert "  teams/us.yaml: changed since the plan was made (its sha256 differs)\n" in (
        refused.stderr
    )
    us.write_bytes(us.read_bytes().removesuffix(b"# changed\n"))
    run("apply", "--plan", saved, str(run.tmp / "teams") + "/")
    assert len(run.links()) == 1


def test_export_channel_and_split_give_a_team_its_files(applied: Cli) -> None:
    run = applied
    one = run("export", "--channel", "ACMEPETS").stdout
    data = yaml.safe_load(one)
    assert [c["account"] for c in data["channels"]] == ["acmepets"]
    done = run("export", "--split", run.tmp / "teams")
    files = sorted(p.name for p in (run.tmp / "teams").iterdir())
    assert files == ["acmepets.global.yaml", "acmepets.yaml"]
    assert done.stderr.count("Wrote ") == 2
    assert (run.tmp / "teams" / "acmepets.yaml").read_text(encoding="utf-8") == one
    # planned together, the team's files are the workspace: no change
    assert body(run("plan", run.tmp / "teams", "--detailed-exitcode").stdout).strip() == (
        "No changes."
    )
    missing = run("export", "--channel", "nope", code=1)
    assert "no channel 'nope' in the workspace; channels: 'acmepets', 'acmepets.global'" in (
        missing.stderr
    )
    both = run("export", "--out", run.tmp / "x.yaml", "--split", run.tmp / "t", code=1)
    assert "give --out FILE or --split DIR, not both" in both.stderr


# --- links made in the UI: prune: false ---------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_link_made_in_the_ui_is_kept_with_prune_false(run: Cli, backend: str) -> None:
    connect(run, "acmepets")
    run.write({"version": 1, "channels": [brand("acmepets", "Bio", "VIP", prune=False)]})
    run("apply", run.config, "--auto-approve")
    create_in_the_ui(run, "acmepets", "Pop-up store", "Hi from the pop-up!")
    ui_url = link_url("acmepets", None, "Hi from the pop-up!")

    planned = run("plan", run.config, "--detailed-exitcode", code=0)
    assert body(planned.stdout) == (
        f"info[kept-link]: link 'Pop-up store' ({ui_url}) is not in the config and is kept "
        "(prune: false for channel acmepets)\n\nNo changes.\n"
    )
    data = json.loads(run("plan", run.config, "--format", "json").stdout)
    assert data["changes"] == []
    assert [(d["severity"], d["code"]) for d in data["diagnostics"]] == [("info", "kept-link")]
    markdown = run("plan", run.config, "--format", "markdown").stdout
    assert "`kept-link`: link 'Pop-up store' (https\\://tiktok.me/acmepets?" in markdown
    assert "IRREVERSIBLE" not in planned.stdout and "[!WARNING]" not in markdown

    applied = run("apply", run.config, "--auto-approve")
    assert applied.stdout.endswith("Nothing to apply.\n")
    assert run.links()[("acmepets", "Pop-up store")].url == ui_url
    # a plan reviewed while marketers go on making links in the UI is still the plan: a
    # link prune: false keeps is no part of the state it is bound to
    run.write({"version": 1, "channels": [brand("acmepets", "Bio", "VIP", "New", prune=False)]})
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)
    create_in_the_ui(run, "acmepets", "Pop-up store 2", "Hi from the second pop-up!")
    done = run("apply", "--plan", saved, run.config)
    assert done.stdout.endswith("Apply complete: 1 change applied.\n")
    assert {title for (_, title) in run.links()} == {
        "Bio",
        "VIP",
        "New",
        "Pop-up store",
        "Pop-up store 2",
    }
    # the same channel with prune (the default) would remove it: the removal guard says so
    run.write({"version": 1, "channels": [brand("acmepets", "Bio", "VIP")]})
    refused = run("apply", run.config, "--auto-approve", code=1)
    assert "--allow-removals" in refused.stderr
    assert ("acmepets", "Pop-up store") in run.links()


# --- "same link" across an edit: renamed_from ---------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_black_friday_becomes_cyber_monday_as_one_regeneration(run: Cli, backend: str) -> None:
    connect(run, "acmepets")
    ad = {"title": "Ad - Black Friday", "ref": "fb_ad", "message": BLACK_FRIDAY}
    channel = {"account": "acmepets", "display_name": "Acmepets", "links": [ad]}
    run.write({"version": 1, "channels": [channel]})
    run("apply", run.config, "--auto-approve")
    before = run.links()[("acmepets", "Ad - Black Friday")]

    ad.update(title="Ad - Cyber Monday", message=CYBER_MONDAY, renamed_from="Ad - Black Friday")
    run.write({"version": 1, "channels": [channel]})
    planned = run("plan", run.config, "--detailed-exitcode", code=2)
    assert body(planned.stdout).splitlines()[:5] == [
        "acmepets",
        '  -/+ regenerate "Ad - Cyber Monday"  NEW URL (title, message changed)',
        '      title: "Ad - Black Friday" -> "Ad - Cyber Monday"',
        f'      message: "{BLACK_FRIDAY}" -> "{CYBER_MONDAY}"',
        f"      old URL: {before.url}",
    ]
    assert planned.stdout.splitlines()[-1] == "Plan: 1 to regenerate (NEW URL)."
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)
    # no --allow-removals: nothing is removed
    applied = run("apply", "--plan", saved, run.config, "--format", "json")
    (change,) = json.loads(applied.stdout)["url_changes"]
    new_url = link_url("acmepets", "fb_ad", CYBER_MONDAY)
    assert (change["title"], change["old_url"], change["new_url"]) == (
        "Ad - Cyber Monday",
        before.url,
        new_url,
    )
    after = run.links()
    assert list(after) == [("acmepets", "Ad - Cyber Monday")]
    assert after[("acmepets", "Ad - Cyber Monday")].id == before.id  # the same link

    history = run("history", "acmepets", "Ad - Cyber Monday", "--format", "json").stdout
    rows = json.loads(history)["history"]
    assert [(r["event"], r["title"], r["old_url"], r["new_url"]) for r in rows] == [
        ("created", "Ad - Black Friday", None, before.url),
        ("regenerated", "Ad - Cyber Monday", before.url, new_url),
    ]
    # the chain is the link's: asked by its old title, the history is the same
    by_old_title = run("history", "acmepets", "Ad - Black Friday", "--format", "json").stdout
    assert json.loads(by_old_title)["history"] == rows
    # applied, the renamed_from is left over: a warning says to remove it
    again = run("plan", run.config, "--detailed-exitcode", code=0)
    assert "warning[renamed-from-unmatched]: link 'Ad - Cyber Monday': renamed_from " in (
        again.stdout
    )


def test_black_friday_with_the_text_report_lists_the_url_to_replace(run: Cli) -> None:
    connect(run, "acmepets")
    ad = {"title": "Ad - Black Friday", "ref": "fb_ad", "message": BLACK_FRIDAY}
    run.write({"version": 1, "channels": [brand("acmepets") | {"links": [ad]}]})
    run("apply", run.config, "--auto-approve")
    ad.update(title="Ad - Cyber Monday", message=CYBER_MONDAY, renamed_from=["Ad - Black Friday"])
    run.write({"version": 1, "channels": [brand("acmepets") | {"links": [ad]}]})
    out = run("apply", run.config, "--auto-approve").stdout
    assert "Replace these URLs (the old ones keep working with the OLD message):" in out
    assert f"    old: {link_url('acmepets', 'fb_ad', BLACK_FRIDAY)}" in out
    assert f"    new: {link_url('acmepets', 'fb_ad', CYBER_MONDAY)}" in out
    assert out.endswith("Apply complete: 1 change applied.\n")


# --- a channel removal shows what it takes ------------------------------------------------------


def test_removing_an_eleven_link_channel_lists_each_link_and_url_in_every_format(
    run: Cli,
) -> None:
    connect(run, "oldbrand")
    titles = [f"Store {i} poster" for i in range(1, 12)]
    run.write({"version": 1, "channels": [brand("oldbrand", *titles)]})
    run("apply", run.config, "--auto-approve")
    urls = {t: lk.url for (_, t), lk in run.links().items()}
    assert len(urls) == 11
    run.write({"version": 1, "channels": [{"account": "oldbrand", "remove": True}]})

    plain = run("plan", run.config).stdout
    markdown = run("plan", run.config, "--format", "markdown").stdout
    data = json.loads(run("plan", run.config, "--format", "json").stdout)
    for title, url in urls.items():
        assert f'        "{title}": {url}\n' in plain
        assert f"> - `oldbrand` / {title}: `{url}` (stays live, untracked; taken with" in markdown
    assert "removes its 11 links" in plain
    assert "**1 irreversible removal, and 11 links the removed channel takes with it.**" in (
        markdown
    )
    (change,) = data["changes"]
    assert {lk["title"]: lk["url"] for lk in change["before"]["links"]} == urls
