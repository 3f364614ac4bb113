"""The life of a workspace through the command line with ``--backend http``: the same story as
tests/cli/test_lifecycle.py, told to a real ``sandbox serve`` process over loopback. Channels are
connected with ``sandbox connect --store`` (the API can't connect them, as in SleekFlow). And
the API key, set in the environment, must show up nowhere: not in any output, saved plan,
error or traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
from click.testing import CliRunner

from reconciler.backends.local.api import StoreApi
from reconciler.cli import cli
from reconciler.model import ChannelStatus, link_url
from tests.helpers import SandboxFactory, clean_environment
from tests.runners import (
    BIO,
    HTTP_KEY,
    PROMO,
    SALE,
    VIP,
    HttpCli,
    all_text,
    body,
    edit_vip,
    example,
    link_of,
)

pytestmark = pytest.mark.http
REAL = [sys.executable, "-m", "reconciler"]

# --- the happy path -------------------------------------------------------------------------


def test_plan_apply_and_converge_over_http(run: HttpCli) -> None:
    run("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)")
    run("sandbox", "connect", "acmepets.global", "--display-name", "Acme Pets (Global)")
    run.write(example())

    planned = run("plan", run.config)
    assert planned.stdout.splitlines()[-1] == "Plan: 8 to create."
    assert run("plan", run.config, "--detailed-exitcode", code=2).stdout == planned.stdout
    data = json.loads(run("plan", run.config, "--format", "json").stdout)
    assert data["summary"] == dict.fromkeys(data["summary"], 0) | {"create": 8}

    applied = run("apply", run.config, "--auto-approve")
    assert applied.stdout.splitlines()[-1] == "Apply complete: 8 changes applied."
    links = run.links()
    assert len(links) == 8
    for (account, _), lk in links.items():
        assert lk.url == link_url(account, lk.ref, lk.message)
        assert lk.url in applied.stdout

    again = run("plan", run.config, "--detailed-exitcode", code=0)
    assert again.stdout.startswith(f"Workspace: SleekFlow API {run.server.url} (id ")
    assert body(again.stdout).strip() == "No changes."
    assert run("apply", run.config, "--auto-approve").stdout.endswith("Nothing to apply.\n")
    assert run.links() == links
    status = body(run("status").stdout).splitlines()
    assert status == [
        'acmepets         connected  4 links  "Acme Pets (US)"',
        'acmepets.global  connected  4 links  "Acme Pets (Global)"',
    ]


def test_a_declared_channel_that_is_not_connected_is_an_error_over_http(run: HttpCli) -> None:
    run("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)")
    run.write(example())
    text = run("plan", run.config, code=1).stdout
    assert "channel acmepets.global is not connected to this workspace" in text
    assert "Connect it in SleekFlow (Channels > TikTok Business Messaging)" in text
    run("plan", run.config, "--detailed-exitcode", code=1)
    plan = json.loads(run("plan", run.config, "--format", "json", code=1).stdout)
    errors = [d for d in plan["diagnostics"] if d["severity"] == "error"]
    assert [(d["code"], d["channel"]) for d in errors] == [
        ("channel-not-connected", "acmepets.global")
    ]
    assert plan["summary"]["connect"] == 0  # the API can't connect
    refused = run("apply", run.config, "--auto-approve", code=1)
    assert "cannot be applied" in refused.stderr and "nothing was changed" in refused.stderr
    assert run.links() == {}


def test_a_display_name_is_renamed_over_http(run: HttpCli) -> None:
    run("sandbox", "connect", "acmepets")
    run("sandbox", "connect", "acmepets.global", "--display-name", "Acme Pets (Global)")
    run.write(example())
    text = run("plan", run.config).stdout
    assert '~ rename channel display name "acmepets" -> "Acme Pets (US)"' in text
    run("apply", run.config, "--auto-approve")
    assert '"Acme Pets (US)"' in run("status").stdout


# --- edits ----------------------------------------------------------------------------------


def test_editing_a_message_regenerates_the_url_over_http(applied: HttpCli) -> None:
    run = applied
    before = run.links()[VIP]
    data = edit_vip(run, "Join our VIP program today")
    new_url = link_url("acmepets", "fb_ad_may2025", "Join our VIP program today")

    text = run("plan", run.config, "--detailed-exitcode", code=2).stdout
    assert '-/+ regenerate "VIP Program"  NEW URL (message changed)' in text
    assert f"old URL: {before.url}" in text and f"new URL: {new_url}" in text

    out = run("apply", run.config, "--auto-approve").stdout
    table = out[out.index("Replace these URLs") :]
    assert "acmepets / VIP Program" in table
    assert f"old: {before.url}" in table and f"new: {new_url}" in table
    after = run.links()[VIP]
    assert (after.id, after.url) == (before.id, new_url)
    history = run.backend().history(*VIP)
    assert [(h.event, h.old_url, h.new_url) for h in history][-1] == (
        "regenerated",
        before.url,
        new_url,
    )

    link_of(data, *VIP)["ref"] = "vip_2025"
    run.write(data)
    result = json.loads(run("apply", run.config, "--auto-approve", "--format", "json").stdout)
    assert result["ok"] is True
    assert [(u["old_url"], u["new_url"]) for u in result["url_changes"]] == [
        (new_url, link_url("acmepets", "vip_2025", "Join our VIP program today"))
    ]
    run("plan", run.config, "--detailed-exitcode", code=0)


def test_a_title_rename_is_an_update_that_keeps_the_url_over_http(applied: HttpCli) -> None:
    run = applied
    before = run.links()[VIP]
    data = example()
    link_of(data, *VIP)["title"] = "VIP Members Club"
    run.write(data)
    text = run("plan", run.config).stdout
    assert '~ update "VIP Program" -> "VIP Members Club"  (URL unchanged)' in text
    out = run("apply", run.config, "--auto-approve").stdout
    assert "Replace these URLs" not in out
    after = run.links()[("acmepets", "VIP Members Club")]
    assert (after.id, after.url) == (before.id, before.url)
    assert VIP not in run.links()
    run("plan", run.config, "--detailed-exitcode", code=0)


# --- removals -------------------------------------------------------------------------------


def test_removals_need_allow_removals_over_http(applied: HttpCli) -> None:
    run = applied
    sale = run.links()[SALE]
    data = example()
    data["channels"][0]["links"] = [
        lk for lk in data["channels"][0]["links"] if lk["title"] != SALE[1]
    ]
    data["channels"][1] = {"account": "acmepets.global", "remove": True}
    run.write(data)
    text = run("plan", run.config, "--detailed-exitcode", code=2).stdout
    assert '- remove "Ad - Summer Sale"  IRREVERSIBLE' in text
    assert f"url: {sale.url}" in text

    exported = run.export()
    refused = run("apply", run.config, "--auto-approve", code=1)
    assert "--allow-removals" in refused.stderr and "Nothing was changed" in refused.stderr
    run("apply", run.config, input="y\n", code=1)  # a yes doesn't stand in for the flag
    assert run.export() == exported

    out = run("apply", run.config, "--auto-approve", "--allow-removals").stdout
    assert "remove acmepets: Ad - Summer Sale" in out
    assert SALE not in run.links() and PROMO not in run.links()
    status = body(run("status").stdout)
    assert status.splitlines() == ['acmepets  connected  3 links  "Acme Pets (US)"']
    assert [h.event for h in run.backend().history(*SALE)] == ["created", "removed"]
    run("plan", run.config, "--detailed-exitcode", code=0)


# --- a disconnected channel -----------------------------------------------------------------


def test_a_disconnected_channel_blocks_its_changes_over_http(applied: HttpCli) -> None:
    run = applied
    run("sandbox", "disconnect", "acmepets.global")
    quiet = run("plan", run.config, "--detailed-exitcode", code=0).stdout
    assert "warning[channel-disconnected]: channel acmepets.global is disconnected" in quiet

    data = example()
    link_of(data, *PROMO)["message"] = "New promo text"
    run.write(data)
    exported = run.export()
    blocked = run("plan", run.config, "--detailed-exitcode", code=1).stdout
    assert (
        "error[channel-disconnected]: channel acmepets.global is disconnected: "
        "its 1 change is blocked." in blocked
    )
    assert "TikTok Business Center" in blocked
    run("apply", run.config, "--auto-approve", code=1)
    assert run.export() == exported
    assert "acmepets.global  disconnected  4 links" in run("status").stdout

    run("sandbox", "connect", "acmepets.global")  # reconnected: the links are kept
    run("apply", run.config, "--auto-approve")
    assert run.links()[PROMO].message == "New promo text"


# --- saved plans ----------------------------------------------------------------------------


def test_a_saved_plan_applies_and_a_stale_one_is_refused_over_http(applied: HttpCli) -> None:
    run = applied
    edit_vip(run)
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)
    stale = run.tmp / "stale.json"
    run("plan", run.config, "--out", stale)

    out = run("apply", "--plan", saved, "--auto-approve").stdout
    assert "Replace these URLs" in out
    assert run.links()[VIP].message == "Join our VIP program now"

    # Meanwhile, in the UI: a link edited. The other saved plan no longer fits.
    bio = run.links()[BIO]
    backend = run.backend()
    acme = backend.read().channel("acmepets")
    assert acme is not None
    backend.update_link(
        acme.id, bio.id, title=bio.title, ref=bio.ref, message="Edited in UI", version=bio.version
    )
    backend.close()
    exported = run.export()
    refused = run("apply", "--plan", stale, "--auto-approve", code=1)
    assert "the plan is stale" in refused.stderr and "nothing was changed" in refused.stderr
    assert f"acmepets: link 'June Giveaway Bio Link' (id {bio.id}) message changed" in (
        refused.stderr
    )
    assert run.export() == exported


# --- export and exit codes --------------------------------------------------------------------


def test_plan_of_the_export_shows_no_change_over_http(applied: HttpCli) -> None:
    run = applied
    run("sandbox", "connect", "unmanaged", "--display-name", "Connected in the UI")
    run("sandbox", "disconnect", "acmepets.global")
    exported = run.tmp / "exported.yaml"
    assert "Wrote" in run("export", "--out", exported).stderr
    assert exported.read_text(encoding="utf-8") == run.export()
    local = run.runner.invoke(cli, ["export", "--store", str(run.store)])
    assert local.stdout == run.export()  # the same workspace, read either way
    result = run("plan", exported, "--detailed-exitcode", code=0)
    assert "No changes." in result.stdout


def test_detailed_exitcode_over_http(applied: HttpCli) -> None:
    run = applied
    assert body(run("plan", run.config, "--detailed-exitcode", code=0).stdout) == "No changes.\n"
    edit_vip(run)
    changed = run("plan", run.config, "--detailed-exitcode", code=2).stdout
    assert changed.splitlines()[-1] == "Plan: 1 to regenerate (NEW URL)."
    unflagged = run("plan", run.config, code=0)
    assert unflagged.stdout == changed
    run.config.write_text("version: 1\nchannels: {}\n", encoding="utf-8")
    invalid = run("plan", run.config, "--detailed-exitcode", code=1)
    assert "channels must be a list" in invalid.stderr and invalid.stdout == ""


def test_status_names_the_channel_status_over_http(applied: HttpCli) -> None:
    run = applied
    StoreApi(run.backend()).set_status("acmepets", ChannelStatus.DISCONNECTED)
    status = run("status").stdout
    assert "acmepets         disconnected  4 links" in status
    assert "access token may have expired" in status


# --- the key stays secret ---------------------------------------------------------------------


@pytest.fixture
def no_waits() -> Iterator[None]:
    """Retries without the backoff (two attempts), for the commands that meet a dead server."""
    with stamina.set_testing(True, attempts=2):
        yield


def test_the_api_key_appears_nowhere(
    sandbox: SandboxFactory, tmp_path: Path, no_waits: None
) -> None:
    server = sandbox(api_key=HTTP_KEY)
    run = HttpCli(tmp_path, server)
    run("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)")
    run("sandbox", "connect", "acmepets.global", "--display-name", "Acme Pets (Global)")
    run.write(example())
    saved = tmp_path / "p.json"
    outputs: list[str] = []
    for args in (
        ("plan", run.config),
        ("plan", run.config, "--format", "json"),
        ("plan", run.config, "--format", "markdown"),
        ("plan", run.config, "--out", saved),
        ("apply", "--plan", saved, "--auto-approve"),
        ("export",),
        ("status",),
        ("apply", run.config, "--auto-approve", "--format", "json"),
    ):
        outputs.append(all_text(run(*args)))
    edit_vip(run)
    run("plan", run.config, "--out", saved)
    outputs.append(all_text(run("apply", run.config, "--plan", saved, "--auto-approve")))
    assert HTTP_KEY not in saved.read_text(encoding="utf-8")
    assert run.links()[VIP].message == "Join our VIP program now"

    # failures: a wrong key, a server that is gone, a key that can't be a header; --debug too
    wrong = "sk-live-WRONG-0000-ALSO-SECRET"
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    for debug in ([], ["--debug"]):
        for env, url, expected in (
            ({"SLEEKFLOW_API_KEY": wrong}, server.url, "HTTP 401: missing or wrong"),
            ({"SLEEKFLOW_API_KEY": HTTP_KEY}, dead, "gave up after 2 attempts: ConnectError"),
            ({"SLEEKFLOW_API_KEY": HTTP_KEY + "\n"}, server.url, "can't be sent as a header"),
        ):
            for command in (["plan", str(run.config)], ["status"], ["export"]):
                argv = [*debug, *command, "--backend", "http", "--api-url", url]
                result = CliRunner().invoke(cli, argv, env=env)
                assert result.exit_code == 1, result.output
                text = all_text(result)
                assert expected in text, text
                assert HTTP_KEY not in text and wrong not in text, text
                outputs.append(text)
    assert all(HTTP_KEY not in text for text in outputs)
    assert HTTP_KEY not in server.stderr


def test_the_api_key_appears_nowhere_in_a_real_process_with_debug(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox(api_key=HTTP_KEY)
    for key, expected in (
        ("sk-live-WRONG-but-secret-too", "HTTP 401"),
        (HTTP_KEY + "\r\n", "can't be sent as a header"),
    ):
        result = subprocess.run(
            [*REAL, "--debug", "status", "--backend", "http", "--api-url", server.url],
            env=clean_environment(SLEEKFLOW_API_KEY=key),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert "Traceback" in result.stderr and "BackendError" in result.stderr  # --debug
        assert expected in result.stderr
        assert key.strip() not in result.stdout + result.stderr
