"""``reconciler links``, ``qr`` and ``history`` through the command line, on a real SQLite
store (click's CliRunner, and the installed command once), and the marketer's flow: apply,
copy the URLs, print the QR codes, and after a regeneration, replace each old URL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
import zxingcpp
from PIL import Image

from reconciler.model import link_url
from tests.helpers import SandboxFactory, png_text
from tests.runners import BIO, PROMO, VIP, Cli, example, link_of, reconciler


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- links ----------------------------------------------------------------------------------


def test_links_lists_every_url_of_the_workspace(applied: Cli) -> None:
    run = applied
    stored = run.links()
    text = run("links").stdout
    for lk in stored.values():
        assert f"    {lk.url}\n" in text
    assert text.splitlines()[0] == 'acmepets  "Acme Pets (US)"'
    assert text.splitlines()[-1] == "8 links in 2 channels."

    rows = json.loads(run("links", "--format", "json").stdout)["links"]
    assert {(r["channel"], r["title"]): r["url"] for r in rows} == {
        key: lk.url for key, lk in stored.items()
    }
    assert set(rows[0]) == {"channel", "title", "ref", "message", "url"}

    result = run("links", "--format", "csv")
    assert not result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    back = read_csv(result.stdout_bytes)
    assert [(r["channel"], r["title"], r["url"]) for r in back] == [
        (r["channel"], r["title"], r["url"]) for r in rows
    ]
    # "@petlover" is inside the message, not at its start: left alone
    promo = next(r for r in back if (r["channel"], r["title"]) == PROMO)
    assert promo["message"] == "Hi! I came from @petlover's video & want the 15% code."


def test_links_csv_for_excel_and_formula_injection(applied: Cli) -> None:
    run = applied
    data = example()
    link_of(data, *VIP)["message"] = '=HYPERLINK("https://evil.example","Claim")'
    link_of(data, *BIO)["message"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    link_of(data, *BIO)["ref"] = "-bio"
    run.write(data)
    run("apply", run.config, "--auto-approve")

    out = run.tmp / "links.csv"
    run("links", "--format", "csv", "--excel", "--out", out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfchannel,title,ref,message,url\r\n")
    assert raw == run("links", "--format", "csv", "--bom").stdout_bytes
    rows = {(r["channel"], r["title"]): r for r in read_csv(raw)}
    assert rows[VIP]["message"] == '\'=HYPERLINK("https://evil.example","Claim")'
    assert rows[BIO]["message"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert rows[BIO]["ref"] == "'-bio"
    stored = run.links()
    assert rows[VIP]["url"] == stored[VIP].url and rows[BIO]["url"] == stored[BIO].url
    # JSON, for tools, has the raw values
    raw_rows = json.loads(run("links", "--format", "json").stdout)["links"]
    assert next(r for r in raw_rows if r["title"] == VIP[1])["message"].startswith("=HYPERLINK")

    result = run("links", "--bom", code=1)
    assert "--bom is for --format csv" in result.stderr


def test_links_of_a_config_and_of_one_channel_or_title(applied: Cli) -> None:
    run = applied
    run("sandbox", "connect", "unmanaged")
    only_us = run.write(
        {
            "version": 1,
            "channels": [
                {"account": "acmepets", "display_name": "Acme Pets (US)", "links": []},
                {"account": "newshop", "display_name": "New", "links": []},
            ],
        },
        run.tmp / "us.yaml",
    )
    result = run("links", only_us, "--format", "json")
    titles = [r["title"] for r in json.loads(result.stdout)["links"]]
    assert titles == [
        "Ad - Summer Sale",
        "June Giveaway Bio Link",
        "Adoption Week RSVP",
        "VIP Program",
    ]
    assert "note: channel newshop is declared but not in the workspace" in result.stderr
    # the file declares no links for acmepets: applying it would remove them all
    assert f"note: {only_us} is not fully applied (4 link changes pending" in result.stderr

    quiet = run("links", run.config, "--format", "json")
    assert quiet.stderr == "" and len(json.loads(quiet.stdout)["links"]) == 8

    one = json.loads(
        run(
            "links",
            "--channel",
            "ACMEPETS.global",
            "--title",
            "influencer promo",
            "--format",
            "json",
        ).stdout
    )["links"]
    assert [(r["channel"], r["title"]) for r in one] == [PROMO]
    assert run("links", "--channel", "unmanaged").stdout == "No links.\n"


def test_unknown_channel_or_title_is_a_clear_error(applied: Cli) -> None:
    run = applied
    result = run("links", "--channel", "nope", code=1)
    assert (
        result.stderr
        == "no channel 'nope' in the workspace; channels: 'acmepets', 'acmepets.global'\n"
    )
    result = run("links", "--channel", "acmepets", "--title", "Nope", code=1)
    assert result.stderr.startswith("no link titled 'Nope' in channel 'acmepets'; titles: 'Ad - ")
    result = run("qr", run.config, "--out", run.tmp / "qr", "--channel", "zoo", code=1)
    assert result.stderr.startswith(f"no channel 'zoo' in the channels {run.config} declares")
    assert not (run.tmp / "qr").exists()


def test_links_of_an_empty_or_missing_workspace(run: Cli) -> None:
    for args in (("links",), ("qr", "--out", run.tmp / "qr"), ("history", "acmepets")):
        refused = run(*args, code=1)
        assert "there is no local workspace at" in refused.stderr
    assert not run.store.exists()  # reading creates nothing
    run("sandbox", "connect", "acmepets")
    assert run("links").stdout == "No links.\n"
    assert json.loads(run("links", "--format", "json").stdout) == {"links": []}


def test_links_against_the_http_backend(applied: Cli, sandbox: SandboxFactory) -> None:
    run = applied
    server = sandbox(store=run.store)
    local = run("links", "--format", "csv").stdout_bytes
    remote = run("links", "--format", "csv", "--backend", "http", "--api-url", server.url)
    assert remote.stdout_bytes == local
    out = run.tmp / "qr"
    run("qr", "--out", out, "--backend", "http", "--api-url", server.url, "--title", "VIP Program")
    assert [p.name for p in out.iterdir()] == ["acmepets--vip-program.svg"]


def test_the_installed_command_prints_csv(applied: Cli) -> None:
    run = applied
    result = reconciler("links", "--store", run.store, "--format", "csv", cwd=run.tmp)
    rows = read_csv(result.stdout.encode("utf-8"))
    assert {(r["channel"], r["title"]): r["url"] for r in rows} == {
        key: lk.url for key, lk in run.links().items()
    }


# --- qr -------------------------------------------------------------------------------------


def decode(path: Path) -> str:
    (found,) = zxingcpp.read_barcodes(Image.open(path))
    return found.text


def test_qr_writes_one_code_per_link_that_decodes_to_its_url(applied: Cli) -> None:
    run = applied
    out = run.tmp / "print" / "qr"
    result = run("qr", "--out", out, "--format", "png")
    stored = run.links()
    files = sorted(out.iterdir())
    assert len(files) == len(stored) == 8
    by_url = {lk.url: key for key, lk in stored.items()}
    for path in files:
        assert path.suffix == ".png"
        assert decode(path) in by_url
        channel, title = by_url[decode(path)]
        assert path.name.startswith(f"{channel}--")
        assert png_text(path)["Title"] == f"{channel} / {title}"
    assert (out / "acmepets--vip-program.png").is_file()
    assert decode(out / "acmepets--vip-program.png") == stored[VIP].url
    assert result.stdout.splitlines()[-1] == f"Wrote 8 QR codes to {out}."
    assert f"{out / 'acmepets--vip-program.png'}  acmepets / VIP Program  (version" in result.stdout

    svg = run.tmp / "svg"
    run("qr", run.config, "--out", svg, "--channel", "acmepets", "--title", "vip program")
    assert [p.name for p in svg.iterdir()] == ["acmepets--vip-program.svg"]
    assert stored[VIP].url.replace("&", "&amp;") in (svg / "acmepets--vip-program.svg").read_text(
        encoding="utf-8"
    )


def test_qr_of_a_long_url_warns_about_lower_error_correction(run: Cli) -> None:
    run("sandbox", "connect", "acmepets")
    message = "🐶" * 250
    run.write(
        {
            "version": 1,
            "channels": [
                {
                    "account": "acmepets",
                    "display_name": "acmepets",
                    "links": [{"title": "Emoji", "ref": "emoji", "message": message}],
                }
            ],
        }
    )
    run("apply", run.config, "--auto-approve")
    result = run("qr", "--out", run.tmp / "qr", "--format", "png")
    assert (
        "warning: acmepets / Emoji: the URL is too long for error correction Q; encoded with M"
        in result.stderr
    )
    assert decode(run.tmp / "qr" / "acmepets--emoji.png") == link_url("acmepets", "emoji", message)


def test_qr_of_a_url_too_long_for_any_code_writes_nothing(run: Cli) -> None:
    run("sandbox", "connect", "acmepets")
    run.write(
        {
            "version": 1,
            "channels": [
                {
                    "account": "acmepets",
                    "display_name": "acmepets",
                    "links": [
                        {"title": "Fine", "message": "Hi"},
                        {"title": "Long", "message": "日本語" * 166 + "日本"},
                    ],
                }
            ],
        }
    )
    run("apply", run.config, "--auto-approve")
    result = run("qr", "--out", run.tmp / "qr", code=1)
    assert "1 link can't be made into a QR code; no file was written" in result.stderr
    assert "acmepets / Long: the URL is" in result.stderr
    assert not (run.tmp / "qr").exists() or not list((run.tmp / "qr").iterdir())


def test_qr_hostile_titles_never_write_outside_out(run: Cli) -> None:
    run("sandbox", "connect", "acmepets")
    backend = run.backend()
    channel_id = backend.read().channels[0].id
    hostile = ["../../escape", "/etc/passwd", "nul\x00byte", "y" * 300, ".hidden", "..", "日本語"]
    for i, title in enumerate(hostile):
        backend.create_link(channel_id, title=title, ref=None, message=f"m{i}", key=f"k{i}")
    backend.close()
    out = run.tmp / "deep" / "qr"
    result = run("qr", "--out", out, "--format", "png")
    assert f"Wrote {len(hostile)} QR codes" in result.stdout
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == len(hostile)
    for name in names:
        assert name.startswith("acmepets--") and name.endswith(".png") and len(name) <= 120
    everything = sorted(str(p.relative_to(run.tmp)) for p in run.tmp.rglob("*") if p.is_file())
    assert everything == sorted(["ws.db", *(f"deep/qr/{n}" for n in names)])
    # the names are stable: a second run writes the same files
    run("qr", "--out", out, "--format", "png")
    assert sorted(p.name for p in out.iterdir()) == names


def test_qr_into_an_unwritable_directory_is_a_clear_error(applied: Cli) -> None:
    run = applied
    afile = run.tmp / "afile"
    afile.write_text("x", encoding="utf-8")
    result = run("qr", "--out", afile / "qr", code=1)
    assert result.stderr.startswith(f"cannot write QR codes to {afile / 'qr'}: ")
    assert len(result.stderr.splitlines()) == 1
    result = run("qr", "--out", afile, code=1)
    assert result.stderr == f"cannot write QR codes to {afile}: it is a file, not a directory\n"
    result = run("qr", code=1)
    assert "Missing option '--out'" in result.stderr


def test_qr_with_no_links(run: Cli) -> None:
    run("sandbox", "connect", "acmepets")
    assert run("qr", "--out", run.tmp / "qr").stdout == "No links: no QR code written.\n"


# --- URL changes: apply, --changed-since, history -------------------------------------------


def test_links_changed_since_a_plan_checks_it_as_apply_does(applied: Cli) -> None:
    run = applied
    data = example()
    link_of(data, *VIP)["message"] = "Join our VIP program today"
    run.write(data)
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)
    good = json.loads(saved.read_text(encoding="utf-8"))
    edited = run.tmp / "edited.json"
    for fmt in ("text", "html"):
        # a new URL edited into the plan: never listed (it would be printed on posters)
        plan = json.loads(json.dumps(good))
        [change] = plan["changes"]
        change["after"]["url"] = "https://tiktok.me/evil?message=Scan%20me"
        edited.write_text(json.dumps(plan), encoding="utf-8")
        refused = run("links", "--changed-since", edited, "--format", fmt, code=1)
        assert refused.stderr == (
            f"{edited}: the plan file was edited (it regenerates acmepets / 'VIP Program' "
            "otherwise than its desired and prior state make); make the plan again with "
            "plan --out\n"
        )
        assert refused.stdout == ""
        plan["changes"] = []  # and a summary that doesn't count the changes
        edited.write_text(json.dumps(plan), encoding="utf-8")
        refused = run("links", "--changed-since", edited, "--format", fmt, code=1)
        assert "the plan file was edited (its summary doesn't count its changes)" in (
            refused.stderr
        )
        # the plan schema, as apply --plan checks it
        plan.pop("summary")
        edited.write_text(json.dumps(plan), encoding="utf-8")
        refused = run("links", "--changed-since", edited, "--format", fmt, code=1)
        assert f"{edited}: not a valid plan file: 'summary' is a required property" in (
            refused.stderr
        )
    # with a plan key, only a plan signed with it is read, as apply --plan reads one
    key = {"RECONCILER_PLAN_KEY": "k" * 32}
    refused = run("links", "--changed-since", saved, env=key, code=1)
    assert "the plan is not signed, and RECONCILER_PLAN_KEY is set" in refused.stderr
    run("plan", run.config, "--out", saved, env=key)
    assert "status: not applied yet" in run("links", "--changed-since", saved, env=key).stdout
    # and a plan made against another workspace is not read against this one
    other = run.tmp / "other.db"
    run("sandbox", "connect", "acmepets", "--store", other)
    refused = run("links", "--changed-since", saved, "--store", other, env=key, code=1)
    assert f"{saved} was made against local workspace {run.store} " in refused.stderr
    assert refused.stderr.endswith("nothing was changed. Plan against this workspace.\n")


def test_the_url_change_report_from_apply_to_history(applied: Cli) -> None:
    run = applied
    before = run.links()[VIP]
    data = example()
    link_of(data, *VIP)["message"] = "Join our VIP program today"
    run.write(data)
    new_url = link_url("acmepets", before.ref, "Join our VIP program today")
    saved = run.tmp / "p.json"
    run("plan", run.config, "--out", saved)

    pending = run("links", "--changed-since", saved).stdout
    assert "  acmepets / VIP Program  (likely in: ads)" in pending
    assert f"    old: {before.url}\n    new: {new_url}\n" in pending
    assert "status: not applied yet" in pending

    # apply (text) ends with old URL -> new URL, before its one-line summary
    out = run("apply", "--plan", saved, "--auto-approve").stdout
    table = out[out.index("Replace these URLs") :]
    assert f"old: {before.url}\n    new: {new_url}\n" in table
    assert table.splitlines()[-1] == "Apply complete: 1 change applied."

    done = json.loads(run("links", "--changed-since", saved, "--format", "json").stdout)
    assert done == {
        "plan": str(saved),
        "url_changes": [
            {
                "channel": "acmepets",
                "title": "VIP Program",
                "where": "ads",
                "old_url": before.url,
                "new_url": new_url,
                "status": "applied",
                "current_url": new_url,
            }
        ],
    }
    (row,) = read_csv(run("links", "--changed-since", saved, "--format", "csv").stdout_bytes)
    assert (row["old_url"], row["new_url"], row["status"]) == (before.url, new_url, "applied")
    filtered = run("links", "--changed-since", saved, "--channel", "acmepets.global", code=1)
    assert "no channel 'acmepets.global' in the links" in filtered.stderr
    assert run("links", run.config, "--changed-since", saved, code=1).exit_code == 1

    # apply --format json carries the same as url_changes
    link_of(data, *VIP)["ref"] = "vip_2025"
    run.write(data)
    newer = link_url("acmepets", "vip_2025", "Join our VIP program today")
    result = json.loads(run("apply", run.config, "--auto-approve", "--format", "json").stdout)
    assert [(u["old_url"], u["new_url"]) for u in result["url_changes"]] == [(new_url, newer)]

    # the local store keeps every URL the link had
    text = run("history", "acmepets", "vip program").stdout
    assert text.splitlines()[0] == 'URL history of acmepets / "vip program", oldest first:'
    assert f"    url: {before.url}" in text
    assert f"    old: {before.url}\n    new: {new_url}" in text
    assert f"    old: {new_url}\n    new: {newer}" in text
    history = json.loads(run("history", "acmepets", "VIP Program", "--format", "json").stdout)
    assert [(h["event"], h["old_url"], h["new_url"]) for h in history["history"]] == [
        ("created", None, before.url),
        ("regenerated", before.url, new_url),
        ("regenerated", new_url, newer),
    ]
    assert all(h["at"] for h in history["history"])
    whole = json.loads(run("history", "ACMEPETS", "--format", "json").stdout)["history"]
    assert len(whole) == 4 + 2  # four creates, two regenerations


def test_history_errors(applied: Cli) -> None:
    run = applied
    result = run("history", "nope", code=1)
    assert result.stderr.startswith("no channel 'nope' in local workspace ")
    assert "channels: 'acmepets', 'acmepets.global'" in result.stderr
    result = run("history", "acmepets", "Nope", code=1)
    assert result.stderr.startswith("no link titled 'Nope' in the history of acmepets; titles: ")
    result = run("history", "--since", "March", code=1)
    assert "Invalid value for '--since': 'March' is not a date (2026-03-01)" in result.stderr
    result = run("history", "--since", "2026-02-30", code=1)
    assert (
        "Invalid value for '--since': '2026-02-30' is not a valid date or time (day is out of "
        "range for month); give a date (2026-03-01) or an ISO 8601 time" in result.stderr
    )
    run("sandbox", "connect", "fresh")
    assert run("history", "fresh").stdout == "No history for fresh.\n"


def test_history_of_a_removed_channel_is_kept(applied: Cli) -> None:
    run = applied
    data = example()
    data["channels"][1] = {"account": "acmepets.global", "remove": True}
    run.write(data)
    run("apply", run.config, "--auto-approve", "--allow-removals")
    rows = json.loads(run("history", "acmepets.global", "--format", "json").stdout)["history"]
    assert [r["event"] for r in rows] == ["created"] * 4 + ["removed"] * 4
    assert yaml.safe_load(run.export())["channels"][0]["account"] == "acmepets"
