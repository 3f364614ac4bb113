"""The whole life of a workspace through the command line (click's CliRunner), on a real
SQLite store in tmp_path: connect, plan, apply, edit, rename, remove, disconnect, saved plans,
export, the bulk-change guard, and every way a user can get it wrong."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from reconciler import __version__
from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.cli import cli
from reconciler.model import ChannelStatus, link_url
from tests.runners import BIO, PROMO, SALE, VIP, Cli, body, edit_vip, example, link_of

# --- the happy path -------------------------------------------------------------------------


def test_connect_plan_apply_and_converge(run: Cli) -> None:
    connected = run("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)")
    assert connected.stdout.startswith("connected acmepets (Acme Pets (US))")
    run("sandbox", "connect", "acmepets.global", "--display-name", "Acme Pets (Global)")
    run.write(example())

    planned = run("plan", run.config)
    assert planned.stdout.splitlines()[-1] == "Plan: 8 to create."
    assert run("plan", run.config, "--detailed-exitcode", code=2).stdout == planned.stdout
    data = json.loads(run("plan", run.config, "--format", "json").stdout)
    assert data["summary"] == dict.fromkeys(data["summary"], 0) | {"create": 8}
    assert {(c["channel"], c["title"]) for c in data["changes"]} >= {VIP, PROMO}

    applied = run("apply", run.config, "--auto-approve")
    assert applied.stdout.splitlines()[-1] == "Apply complete: 8 changes applied."
    links = run.links()
    assert len(links) == 8
    for (account, _), lk in links.items():
        assert lk.url == link_url(account, lk.ref, lk.message)
        assert lk.url in applied.stdout

    again = run("plan", run.config, "--detailed-exitcode", code=0)
    where = f"Workspace: local workspace {run.store.resolve()} (id "
    assert again.stdout.startswith(where)
    assert body(again.stdout).strip() == "No changes."
    assert run("apply", run.config, "--auto-approve").stdout.endswith("Nothing to apply.\n")
    assert run.links() == links


def test_plan_connects_and_renames_channels_in_the_local_workspace(run: Cli) -> None:
    run("sandbox", "connect", "acmepets")  # named after its account
    run.write(example())
    planned = run("plan", run.config).stdout
    assert '~ rename channel display name "acmepets" -> "Acme Pets (US)"' in planned
    assert '+ connect channel, display name "Acme Pets (Global)"' in planned
    run("apply", run.config, "--auto-approve")
    status = run("status").stdout
    assert '"Acme Pets (US)"' in status and '"Acme Pets (Global)"' in status


def test_commands_never_make_a_store_on_the_spot(run: Cli) -> None:
    """A forgotten --backend http must not plan and apply against an empty demo store made
    there and then: every command that reads a workspace refuses one that doesn't exist."""
    run.write(example())
    for args in (
        ("plan", run.config),
        ("apply", run.config, "--auto-approve"),
        ("status",),
        ("export",),
    ):
        refused = run(*args, code=1)
        assert refused.stdout == ""
        assert f"there is no local workspace at {run.store}" in refused.stderr
        assert "reconciler sandbox connect ACCOUNT" in refused.stderr
    assert not run.store.exists()
    made = run("sandbox", "connect", "acmepets")
    assert f"Created the local workspace {run.store}" in made.stderr
    assert "Created" not in run("sandbox", "connect", "acmepets.global").stderr
    assert body(run("status").stdout).startswith("acmepets ")


def test_sandbox_commands_say_they_act_on_the_local_store(run: Cli) -> None:
    noted = run("sandbox", "connect", "acmepets", env={"RECONCILER_BACKEND": "http"})
    assert "note: sandbox commands act on the local workspace" in noted.stderr
    assert "note:" not in run("sandbox", "connect", "acmepets").stderr


def test_status_lists_channels_links_and_the_fix_for_disconnected_ones(applied: Cli) -> None:
    run = applied
    lines = body(run("status").stdout).splitlines()
    assert lines == [
        'acmepets         connected  4 links  "Acme Pets (US)"',
        'acmepets.global  connected  4 links  "Acme Pets (Global)"',
    ]
    run("sandbox", "disconnect", "acmepets.global")
    status = run("status").stdout
    assert "acmepets.global  disconnected  4 links" in status
    assert "access token may have expired" in status
    assert "TikTok Business Center" in status


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"reconciler, version {__version__}\n"


# --- edits ----------------------------------------------------------------------------------


def test_editing_a_message_regenerates_the_url(applied: Cli) -> None:
    run = applied
    before = run.links()[VIP]
    data = example()
    link_of(data, *VIP)["message"] = "Join our VIP program today"
    run.write(data)
    new_url = link_url("acmepets", "fb_ad_may2025", "Join our VIP program today")

    text = run("plan", run.config, "--detailed-exitcode", code=2).stdout
    assert '-/+ regenerate "VIP Program"  NEW URL (message changed)' in text
    assert 'message: "Join our VIP program" -> "Join our VIP program today"' in text
    assert f"old URL: {before.url}" in text
    assert f"new URL: {new_url}" in text
    assert text.splitlines()[-1] == "Plan: 1 to regenerate (NEW URL)."

    (change,) = json.loads(run("plan", run.config, "--format", "json").stdout)["changes"]
    assert (change["action"], change["fields"], change["irreversible"]) == (
        "regenerate",
        ["message"],
        False,
    )
    assert (change["before"]["url"], change["after"]["url"]) == (before.url, new_url)

    out = run("apply", run.config, "--auto-approve").stdout
    table = out[out.index("Replace these URLs") :]
    assert "acmepets / VIP Program" in table
    assert f"old: {before.url}" in table and f"new: {new_url}" in table
    after = run.links()[VIP]
    assert (after.id, after.url) == (before.id, new_url)
    assert [(h.event, h.old_url, h.new_url) for h in run.backend().history(*VIP)][-1] == (
        "regenerated",
        before.url,
        new_url,
    )

    # the same through --format json: the URL changes as data
    link_of(data, *VIP)["ref"] = "vip_2025"
    run.write(data)
    newer = link_url("acmepets", "vip_2025", "Join our VIP program today")
    result = json.loads(run("apply", run.config, "--auto-approve", "--format", "json").stdout)
    assert result["ok"] is True
    assert result["url_changes"] == [
        {
            "channel": "acmepets",
            "title": "VIP Program",
            "where": result["url_changes"][0]["where"],
            "old_url": new_url,
            "new_url": newer,
        }
    ]
    assert run.links()[VIP].url == newer


def test_changing_the_case_of_a_title_updates_and_keeps_the_url(applied: Cli) -> None:
    run = applied
    before = run.links()[VIP]
    data = example()
    link_of(data, *VIP)["title"] = "VIP program"
    run.write(data)
    text = run("plan", run.config, code=0).stdout
    assert '~ update "VIP Program" -> "VIP program"  (URL unchanged)' in text
    assert text.splitlines()[-1] == "Plan: 1 to update."
    out = run("apply", run.config, "--auto-approve").stdout
    assert "Replace these URLs" not in out
    after = run.links()[("acmepets", "VIP program")]
    assert (after.id, after.url) == (before.id, before.url)


def test_a_new_title_with_the_same_ref_and_message_is_a_rename(applied: Cli) -> None:
    run = applied
    before = run.links()[VIP]
    data = example()
    link_of(data, *VIP)["title"] = "VIP Members Club"
    run.write(data)
    plan = json.loads(run("plan", run.config, "--format", "json").stdout)
    assert plan["summary"]["update"] == 1
    assert plan["summary"]["create"] == plan["summary"]["remove"] == 0
    (change,) = plan["changes"]
    assert (change["action"], change["fields"]) == ("update", ["title"])
    assert change["before"]["url"] == change["after"]["url"] == before.url
    # no removal, so no --allow-removals needed
    run("apply", run.config, "--auto-approve")
    after = run.links()[("acmepets", "VIP Members Club")]
    assert (after.id, after.url) == (before.id, before.url)
    assert VIP not in run.links()


def test_a_failed_step_is_reported_and_the_next_apply_finishes(run: Cli) -> None:
    run("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)")
    run("sandbox", "connect", "acmepets.global", "--display-name", "Acme Pets (Global)")
    db = sqlite3.connect(run.store)
    db.execute(
        "CREATE TRIGGER full BEFORE INSERT ON links WHEN NEW.title = 'VIP Program' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    db.commit()
    db.close()
    run.write(example())
    failed = run("apply", run.config, "--auto-approve", code=1)
    assert "FAILED: create acmepets: VIP Program" in failed.stdout
    assert "disk full" in failed.stdout
    assert VIP not in run.links() and SALE in run.links()
    data = json.loads(run("apply", run.config, "--auto-approve", "--format", "json", code=1).stdout)
    assert data["ok"] is False
    assert data["failed"]["title"] == "VIP Program" and "disk full" in data["failed"]["error"]
    db = sqlite3.connect(run.store)
    db.execute("DROP TRIGGER full")
    db.commit()
    db.close()
    run("apply", run.config, "--auto-approve")
    run("plan", run.config, "--detailed-exitcode", code=0)
    assert len(run.links()) == 8


# --- removals -------------------------------------------------------------------------------


def test_removing_a_link_needs_allow_removals(applied: Cli) -> None:
    run = applied
    sale = run.links()[SALE]
    data = example()
    data["channels"][0]["links"] = [
        lk for lk in data["channels"][0]["links"] if lk["title"] != SALE[1]
    ]
    run.write(data)
    text = run("plan", run.config, "--detailed-exitcode", code=2).stdout
    assert '- remove "Ad - Summer Sale"  IRREVERSIBLE' in text
    assert f"url: {sale.url}" in text
    assert "keeps working" in text

    exported = run.export()
    for extra in ((), ("--format", "json")):
        refused = run("apply", run.config, "--auto-approve", *extra, code=1)
        assert "--allow-removals" in refused.stderr
        assert "Nothing was changed" in refused.stderr
        assert "acmepets / Ad - Summer Sale" in refused.stderr
    # a yes at the prompt doesn't stand in for the flag
    run("apply", run.config, input="y\n", code=1)
    assert run.export() == exported

    out = run("apply", run.config, "--auto-approve", "--allow-removals").stdout
    assert "remove acmepets: Ad - Summer Sale" in out
    assert SALE not in run.links()
    events = [h.event for h in run.backend().history(*SALE)]
    assert events == ["created", "removed"]


def test_a_protected_channel_is_never_removed(applied: Cli) -> None:
    run = applied
    data = example()
    data["channels"][0] = {"account": "acmepets", "protect": True, "remove": True}
    run.write(data)
    exported = run.export()
    result = run("plan", run.config, code=1)
    assert "protected (protect: true)" in result.stdout
    assert "This plan cannot be applied: 1 error above." in result.stdout
    run("plan", run.config, "--detailed-exitcode", code=1)
    plan = json.loads(run("plan", run.config, "--format", "json", code=1).stdout)
    assert [d["code"] for d in plan["diagnostics"] if d["severity"] == "error"] == [
        "protected-channel"
    ]
    refused = run("apply", run.config, "--auto-approve", "--allow-removals", "--force", code=1)
    assert "cannot be applied" in refused.stderr and "nothing was changed" in refused.stderr
    assert run.export() == exported


def test_removing_an_unprotected_channel(applied: Cli) -> None:
    run = applied
    data = example()
    data["channels"][1] = {"account": "acmepets.global", "remove": True}
    run.write(data)
    text = run("plan", run.config).stdout
    assert "- remove channel" in text and "IRREVERSIBLE" in text
    run("apply", run.config, "--auto-approve", code=1)
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)
    run("apply", "--plan", saved, "--auto-approve", code=1)
    run("apply", "--plan", saved, "--auto-approve", "--allow-removals")
    status = body(run("status").stdout)
    assert status.splitlines() == ['acmepets  connected  4 links  "Acme Pets (US)"']
    assert body(run("plan", run.config, "--detailed-exitcode", code=0).stdout).startswith(
        "info[channel-absent]: channel acmepets.global is marked remove: true "
        "and is not in the workspace"
    )


# --- a disconnected channel -----------------------------------------------------------------


def test_a_disconnected_channel_blocks_its_changes(applied: Cli) -> None:
    run = applied
    out = run("sandbox", "disconnect", "acmepets.global").stdout
    assert out.startswith("disconnected acmepets.global")

    # no changes: a warning, exit 0 (a drift check still sees it)
    quiet = run("plan", run.config, "--detailed-exitcode", code=0).stdout
    assert "warning[channel-disconnected]: channel acmepets.global is disconnected" in quiet
    assert "TikTok Business Center" in quiet

    # changes for it: an error, exit 1, the troubleshooting, and apply changes nothing
    data = example()
    link_of(data, *PROMO)["message"] = "New promo text"
    run.write(data)
    exported = run.export()
    blocked = run("plan", run.config, "--detailed-exitcode", code=1).stdout
    assert (
        "error[channel-disconnected]: channel acmepets.global is disconnected: "
        "its 1 change is blocked." in blocked
    )
    assert "access token may have expired" in blocked
    assert "remove the channel and connect it again" in blocked
    assert "TikTok Business Center" in blocked
    assert '-/+ regenerate "Influencer Promo"' in blocked  # listed, though blocked
    run("apply", run.config, "--auto-approve", code=1)
    assert run.export() == exported

    # reconnecting fixes it; the links and the name are kept
    again = run("sandbox", "connect", "acmepets.global").stdout
    assert again.startswith("reconnected acmepets.global (Acme Pets (Global))")
    assert 'acmepets.global  connected  4 links  "Acme Pets (Global)"' in run("status").stdout
    run("apply", run.config, "--auto-approve")
    assert run.links()[PROMO].message == "New promo text"


def test_sandbox_errors(applied: Cli) -> None:
    run = applied
    before = run("export").output
    again = run("sandbox", "connect", "acmepets", "--display-name", "Other", code=0)
    assert "acmepets is already connected" in again.output
    assert run("export").output == before
    run("sandbox", "disconnect", "nobody", code=1)
    bad = run("sandbox", "connect", "not a handle!", code=1)
    assert "is not a TikTok username" in bad.stderr
    run("sandbox", "connect", "ok", "--display-name", " ", code=1)


def test_sandbox_disconnect_of_a_missing_store_creates_nothing(run: Cli) -> None:
    result = run("sandbox", "disconnect", "acmepets", code=1)
    assert "no channel acmepets" in result.stderr
    assert not run.store.exists()


# --- saved plans ----------------------------------------------------------------------------


def test_a_saved_plan_applies_as_reviewed(applied: Cli) -> None:
    run = applied
    edit_vip(run)
    saved = run.tmp / "p.json"
    result = run("plan", run.config, "--out", saved)
    assert f"apply it with: reconciler apply --plan {saved}" in result.stderr
    # a channel connected elsewhere (not declared) doesn't make the plan stale
    run("sandbox", "connect", "newbrand")
    out = run("apply", "--plan", saved, "--auto-approve").stdout
    assert "Replace these URLs" in out
    assert run.links()[VIP].message == "Join our VIP program now"
    # the same file again: the workspace moved (by the plan itself), so it is refused
    run("apply", "--plan", saved, "--auto-approve", code=1)


def test_a_stale_saved_plan_is_refused_and_says_what_moved(applied: Cli) -> None:
    run = applied
    edit_vip(run)
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)

    # Meanwhile, in the UI: a link edited, one removed, one added, the channel disconnected.
    links = run.links()
    backend = run.backend()
    state = backend.read()
    acme = state.channel("acmepets")
    glob = state.channel("acmepets.global")
    assert acme is not None and glob is not None
    bio, sale = links[BIO], links[SALE]
    backend.update_link(
        acme.id,
        bio.id,
        title=bio.title,
        ref=bio.ref,
        message="Edited in the UI",
        version=bio.version,
    )
    backend.remove_link(acme.id, sale.id, version=sale.version)
    added = backend.create_link(glob.id, title="Added in the UI", ref=None, message="x", key="k")
    StoreApi(backend).set_status("acmepets.global", ChannelStatus.DISCONNECTED)
    backend.close()
    exported = run.export()

    refused = run("apply", "--plan", saved, "--auto-approve", code=1)
    err = refused.stderr
    assert "the plan is stale" in err and "nothing was changed" in err
    assert (
        f"acmepets: link 'June Giveaway Bio Link' (id {bio.id}) message changed: "
        "\"Hi! I'd like to join the June giveaway.\" -> 'Edited in the UI'"
    ) in err
    assert f"acmepets: link 'Ad - Summer Sale' (id {sale.id}) was removed" in err
    assert f"acmepets.global: link 'Added in the UI' (id {added.id}) was added" in err
    assert "acmepets.global: status changed: 'connected' -> 'disconnected'" in err
    assert "Run plan again" in err
    assert refused.stdout == ""
    assert run.export() == exported


def test_a_saved_plan_must_come_from_the_given_file(applied: Cli) -> None:
    run = applied
    edit_vip(run)
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)
    exported = run.export()
    original = run.config.read_bytes()
    edit_vip(run, "Join our VIP program today")  # the config moved on after the review
    refused = run("apply", run.config, "--plan", saved, "--auto-approve", code=1)
    assert f"{saved} was not made from {run.config} as it is now" in refused.stderr
    assert (
        "acmepets: link 'VIP Program' message is 'Join our VIP program now' in the plan, "
        "'Join our VIP program today' in the config"
    ) in refused.stderr
    assert run.export() == exported
    missing = run("apply", run.tmp / "nope.yaml", "--plan", saved, "--auto-approve", code=1)
    assert "nope.yaml" in missing.stderr
    # the bytes may not differ either: a saved plan records each file's sha256 (issue 15)
    run.config.write_bytes(original + b"# a comment changes the bytes, not the config\n")
    commented = run("apply", run.config, "--plan", saved, "--auto-approve", code=1)
    assert f"{run.config}: changed since the plan was made (its sha256 differs)" in (
        commented.stderr
    )
    assert run.export() == exported
    run.config.write_bytes(original)
    run("apply", run.config, "--plan", saved)  # no prompt: the saved plan was the review
    assert run.links()[VIP].message == "Join our VIP program now"


def test_a_plan_with_errors_is_saved_but_says_it_cannot_be_applied(applied: Cli) -> None:
    run = applied
    data = example()
    data["channels"][0] = {"account": "acmepets", "protect": True, "remove": True}
    run.write(data)
    saved = run.tmp / "p.json"
    result = run("plan", run.config, "--out", saved, code=1)
    assert "cannot be applied as it is" in result.stderr
    refused = run("apply", "--plan", saved, "--auto-approve", "--allow-removals", code=1)
    assert "the plan has 1 error and cannot be applied" in refused.stderr
    assert "protected" in refused.stderr
    assert ("acmepets", "VIP Program") in run.links()


def _garbage_plans(tmp: Path, good: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    def edited(**changes: Any) -> bytes:
        data = copy.deepcopy(good)
        for key, value in changes.items():
            if value is None:
                del data[key]
            else:
                data[key] = value
        return json.dumps(data).encode()

    bad_desired = copy.deepcopy(good["desired"])
    bad_desired["channels"][0]["display_name"] = None
    bad_desired["channels"][0]["remove"] = False
    bad_account = copy.deepcopy(good["desired"])
    bad_account["channels"][0]["account"] = "not a handle!"
    prior = copy.deepcopy(good["prior_state"])
    prior["acmepets"]["display_name"] = "Forged"
    return {
        "random.json": (os.urandom(256), "not a plan file"),
        "latin1.json": (b'{"a": "\xe9"}', "not a plan file"),
        "text.json": (b"this is not json", "w.json:1:1: not a plan file"),
        "list.json": (b"[]", "a JSON object was expected"),
        "empty-object.json": (b"{}", "not a plan file (it has no format_version)"),
        "version-2.json": (edited(format_version=2), "unsupported plan format_version 2"),
        "bad-changes.json": (edited(changes="all of them"), "not a valid plan file"),
        "bad-summary.json": (edited(summary={"create": -1}), "not a valid plan file"),
        "not-saved.json": (edited(desired=None, prior_state=None), "not a saved one"),
        "no-display-name.json": (edited(desired=bad_desired), "desired state"),
        "bad-account.json": (edited(desired=bad_account), "desired state"),
        "desired-list.json": (edited(desired=[1, 2]), "not a valid plan file"),
        "forged-prior.json": (edited(prior_state=prior), "the plan file was edited"),
        "deep.json": (b"[" * 100_000 + b"]" * 100_000, "not a plan file"),
    }


def test_garbage_plan_files_are_refused_with_a_clear_message(applied: Cli) -> None:
    run = applied
    edit_vip(run)
    good_path = run.tmp / "good.json"
    run("plan", run.config, "--out", good_path)
    good = json.loads(good_path.read_text(encoding="utf-8"))
    exported = run.export()
    for name, (content, message) in _garbage_plans(run.tmp, good).items():
        path = run.tmp / name
        path.write_bytes(content)
        result = run("apply", "--plan", path, "--auto-approve", code=1)
        expected = message.replace("w.json", str(path))
        assert expected in result.stderr, (name, result.stderr)
        assert str(path) in result.stderr
        assert len(result.stderr) < 2000, (name, result.stderr)
    result = run("apply", "--plan", run.tmp / "missing.json", code=1)
    assert "no such plan file" in result.stderr
    # plan --format json output is a plan but not a saved one
    printed = run.tmp / "printed.json"
    printed.write_text(run("plan", run.config, "--format", "json").stdout, encoding="utf-8")
    assert "not a saved one" in run("apply", "--plan", printed, code=1).stderr
    assert run.export() == exported


# --- export ---------------------------------------------------------------------------------


def test_plan_of_the_export_shows_no_change(applied: Cli) -> None:
    run = applied
    run("sandbox", "connect", "unmanaged", "--display-name", "Connected in the UI")
    run("sandbox", "disconnect", "acmepets.global")
    exported = run.tmp / "exported.yaml"
    assert "Wrote" in run("export", "--out", exported).stderr
    assert exported.read_text(encoding="utf-8") == run.export()
    assert run("validate", exported).exit_code == 0
    result = run("plan", exported, "--detailed-exitcode", code=0)
    assert "No changes." in result.stdout
    assert "unmanaged" not in result.stdout.split("No changes.")[0].split("info:")[0]


def test_export_round_trips_awkward_values(run: Cli) -> None:
    messages = [
        "yes",
        "null",
        "123",
        "  leading and trailing  ",
        "line one\nline two\n",
        "tab\there",
        "# not a comment",
        "key: value",
        "- not a list",
        "'single' and \"double\" quotes",
        "a  b  " * 60,
        "next line\x85char",
        "line\u2028separator",
        "emoji 🐶🐱 and 日本語",
        "100% & more ~ *!@",
        "x" * 500,
    ]
    titles = ["True", "null", "2025-01-01", "0o17", "~", "- dash", "yes", "1e3"]
    backend = run.backend()
    channel = backend.connect_channel("AcmePets", 'Acme: "Pets" #1')
    for i, message in enumerate(messages):
        title = titles[i] if i < len(titles) else f"Link {i}"
        ref = ["yes", "123", "1e3", "0o17", "y", None][i % 6]
        backend.create_link(channel.id, title=title, ref=ref, message=message, key=str(i))
    backend.connect_channel("on", "on")
    backend.close()
    exported = run.tmp / "exported.yaml"
    run("export", "--out", exported)
    assert run("plan", exported, "--detailed-exitcode", code=0).stdout.endswith("No changes.\n")


# --- exit codes and the prompt --------------------------------------------------------------


def test_detailed_exitcode(applied: Cli) -> None:
    run = applied
    assert body(run("plan", run.config, "--detailed-exitcode", code=0).stdout) == "No changes.\n"
    edit_vip(run)
    changed = run("plan", run.config, "--detailed-exitcode", code=2).stdout
    assert changed.splitlines()[-1] == "Plan: 1 to regenerate (NEW URL)."
    unflagged = run("plan", run.config, code=0)  # without the flag, changes are a success
    assert unflagged.stdout == changed
    run.config.write_text("version: 1\nchannels: {}\n", encoding="utf-8")
    invalid = run("plan", run.config, "--detailed-exitcode", code=1)
    assert "channels must be a list" in invalid.stderr and invalid.stdout == ""


def test_the_prompt_defaults_to_no(applied: Cli) -> None:
    run = applied
    edit_vip(run)
    exported = run.export()
    for answer in ("\n", "", "n\n", "yes please\nno\n"):
        result = run("apply", run.config, input=answer, code=1)
        assert "[y/N]" in result.stderr
        assert "1 link gets a NEW URL" in result.stderr
        assert "Apply cancelled. Nothing was changed." in result.stderr
        assert run.export() == exported
    result = run("apply", run.config, input="y\n")
    assert "Apply complete: 1 change applied." in result.stdout
    assert run.links()[VIP].message == "Join our VIP program now"


# --- the bulk-change guard ------------------------------------------------------------------


def _bulk(run: Cli, edited: int, *, pct: float | None = None) -> None:
    links = [
        {"title": f"Link {i}", "ref": f"r{i}", "message": f"Hello {i}" + (" v2" * (i < edited))}
        for i in range(10)
    ]
    channel: dict[str, Any] = {"account": "bulk", "display_name": "Bulk", "links": links}
    if pct is not None:
        channel["max_change_pct"] = pct
    run.write({"version": 1, "channels": [channel]})


def test_the_bulk_change_guard(run: Cli) -> None:
    run("sandbox", "connect", "bulk", "--display-name", "Bulk")
    _bulk(run, 0)
    run("apply", run.config, "--auto-approve")

    _bulk(run, 3)  # 30%: not over the limit
    run("plan", run.config, code=0)

    _bulk(run, 4)
    exported = run.export()
    text = run("plan", run.config, code=1).stdout
    assert "regenerates 4 and removes 0 of its 10 links (40%, over the 30% limit)" in text
    assert "--force" in text
    plan = json.loads(run("plan", run.config, "--format", "json", code=1).stdout)
    assert [d["code"] for d in plan["diagnostics"]] == ["too-many-changes"]
    assert plan["diagnostics"][0]["severity"] == "error"
    forced = run("plan", run.config, "--force", code=0).stdout
    assert "forced" in forced
    run("plan", run.config, "--force", "--detailed-exitcode", code=2)
    run("apply", run.config, "--auto-approve", code=1)
    assert run.export() == exported
    out = run("apply", run.config, "--auto-approve", "--force").stdout
    assert "Apply complete: 4 changes applied." in out

    _bulk(run, 4, pct=50)  # the limit raised in review: no --force needed
    run("plan", run.config, code=0)


def test_a_saved_plan_made_with_force_needs_force_again(run: Cli) -> None:
    run("sandbox", "connect", "bulk", "--display-name", "Bulk")
    _bulk(run, 0)
    run("apply", run.config, "--auto-approve")
    _bulk(run, 5)
    forced = run.tmp / "forced.json"
    run("plan", run.config, "--force", "--out", forced)
    assert json.loads(forced.read_text(encoding="utf-8"))["forced"] is True
    refused = run("apply", "--plan", forced, "--auto-approve", code=1)
    assert "was made with --force" in refused.stderr and "apply it with --force too" in (
        refused.stderr
    )
    # "forced": true typed into a plan the guard refused widens nothing either
    out = run("apply", "--plan", forced, "--auto-approve", "--force").stdout
    assert "Apply complete: 5 changes applied." in out

    # saved without --force: refused, unless apply is given --force
    _bulk(run, 10)
    unforced = run.tmp / "unforced.json"
    run("plan", run.config, "--out", unforced, code=1)
    run("apply", "--plan", unforced, "--auto-approve", code=1)
    run("apply", "--plan", unforced, "--auto-approve", "--force")
    assert all(lk.message.endswith(" v2") for lk in run.links().values())


# --- bad inputs -----------------------------------------------------------------------------


def test_an_invalid_config_is_reported_with_its_position_and_writes_nothing(run: Cli) -> None:
    run.config.write_text(
        "version: 1\nchannels:\n  - account: acmepets\n    display_name: Acme\n    colour: red\n",
        encoding="utf-8",
    )
    for args in (
        ("plan", run.config),
        ("plan", run.config, "--format", "json", "--out", run.tmp / "p.json"),
        ("apply", run.config, "--auto-approve"),
    ):
        result = run(*args, code=1)
        assert f"{run.config}:5:5: " in result.stderr
        assert "colour" in result.stderr
        assert result.stdout == ""
    assert sorted(p.name for p in run.tmp.iterdir()) == ["w.yaml"]


def test_a_missing_config_file(run: Cli) -> None:
    result = run("plan", run.tmp / "nope.yaml", code=1)
    assert f"{run.tmp / 'nope.yaml'}: no such file" in result.stderr
    assert not run.store.exists()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="random-bytes"),
        pytest.param("foreign", id="foreign-sqlite"),
    ],
)
def test_a_bad_store_is_a_clear_error_for_every_command(run: Cli, content: str | None) -> None:
    if content is None:
        run.store.write_bytes(os.urandom(4096))
        expected = "is not a reconciler store"
    else:
        db = sqlite3.connect(run.store)
        db.execute("CREATE TABLE notes (body TEXT)")
        db.commit()
        db.close()
        expected = "SQLite file of another program"
    before = run.store.read_bytes()
    run.write(example())
    for args in (
        ("plan", run.config),
        ("apply", run.config, "--auto-approve"),
        ("export",),
        ("status",),
        ("sandbox", "connect", "acmepets"),
        ("sandbox", "disconnect", "acmepets"),
    ):
        result = run(*args, code=1)
        assert result.stderr.startswith(f"store {run.store} "), result.stderr
        assert expected in result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert run.store.read_bytes() == before


def test_debug_lets_the_traceback_through(run: Cli) -> None:
    from reconciler.errors import StoreError

    run.store.write_bytes(os.urandom(4096))
    for argv in (
        ["--debug", "status", "--store", str(run.store)],
        ["status", "--store", str(run.store), "--debug"],  # where a bug report adds it
    ):
        result = CliRunner().invoke(cli, argv)
        assert isinstance(result.exception, StoreError), argv
    env = {"RECONCILER_DEBUG": "1"}
    result = CliRunner().invoke(cli, ["status", "--store", str(run.store)], env=env)
    assert isinstance(result.exception, StoreError)
    bad = CliRunner().invoke(cli, ["status"], env={"RECONCILER_DEBUG": "maybe"})
    assert bad.exit_code == 1 and "'maybe' is not a valid boolean" in bad.output
    # after "--" it is an argument, not the flag
    result = CliRunner().invoke(cli, ["validate", "--", "--debug"])
    assert result.exit_code == 1
    assert "--debug: no such file" in result.output


def test_apply_needs_a_file_or_a_plan(run: Cli) -> None:
    result = run("apply", "--auto-approve", code=1)
    assert "give a config PATH, or --plan PLANFILE" in result.stderr
    assert not run.store.exists()


def test_unwritable_plan_output_is_a_clear_error(applied: Cli) -> None:
    run = applied
    result = run("plan", run.config, "--out", run.tmp / "no" / "such" / "dir.json", code=1)
    assert "cannot write" in result.stderr
    afile = run.tmp / "afile"
    afile.write_text("x", encoding="utf-8")
    run("export", "--out", afile / "out.yaml", code=1)


def test_written_files_get_ordinary_permissions(applied: Cli) -> None:
    run = applied
    old = os.umask(0o022)
    try:
        run("export", "--out", run.tmp / "out.yaml")
        run("plan", run.config, "--out", run.tmp / "p.json")
    finally:
        os.umask(old)
    assert (run.tmp / "out.yaml").stat().st_mode & 0o777 == 0o644
    assert (run.tmp / "p.json").stat().st_mode & 0o777 == 0o644
    assert not [p for p in run.tmp.iterdir() if p.name.startswith(".")]


# --- help -------------------------------------------------------------------------------------


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = [(prefix, group)]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append(((*prefix, name), command))
    return found


def test_every_command_and_option_has_help_text() -> None:
    commands = _commands(cli)
    names = {" ".join(path) for path, _ in commands}
    assert {"plan", "apply", "export", "status", "sandbox connect", "sandbox disconnect"} <= names
    for path, command in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        description = (command.help or "").strip()
        assert description, f"{' '.join(path) or 'reconciler'} has no help text"
        first_line = " ".join(description.splitlines()[0].split())
        assert first_line in " ".join(result.stdout.split()), path
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"


def test_json_apply_that_asks_shows_the_plan_on_stderr(run: Cli) -> None:
    run("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)")
    run("sandbox", "connect", "acmepets.global", "--display-name", "Acme Pets (Global)")
    run.write(example())
    result = run("apply", run.config, "--format", "json", input="n\n", code=1)
    assert "create" in result.stderr and "Apply cancelled" in result.stderr
    assert result.stdout == ""


def test_export_warns_about_titles_that_clash_ignoring_case(run: Cli) -> None:

    run("sandbox", "connect", "acme")
    store = LocalBackend(run.store)
    cid = store.read().channels[0].id
    store.create_link(cid, title="Bio", ref=None, message="a", key="k1")
    store.close()
    # An older store, or SleekFlow's own UI, can hold such a pair: write it behind the API.
    import sqlite3

    db = sqlite3.connect(run.store)
    with db:
        db.execute(
            "INSERT INTO links (channel_id, title, ref, message, url, created_at, updated_at) "
            "VALUES (?, 'BIO', NULL, 'b', 'https://tiktok.me/acme?message=b', 'x', 'x')",
            (int(cid),),
        )
    db.close()
    result = run("export")
    assert "channel acme has links titled 'Bio', 'BIO'" in result.stderr
    assert "title: Bio" in result.stdout and "title: BIO" in result.stdout
