""""Which posters must I reprint since March 1st?": ``links --changed-since DATE`` and
``history --since``, every channel's history, and the page of links marking what changed; each
on the local store and over HTTP against a real ``sandbox serve`` (the ``run`` fixture of the
``http`` parameter)."""

from __future__ import annotations

import json

import pytest

from tests.runners import SALE, VIP, Cli, apply_example, example, link_of, reprint_story

#: Each test runs on the local store and over HTTP.
both_backends = pytest.mark.parametrize(
    "backend", ["local", pytest.param("http", marks=pytest.mark.http)]
)


@both_backends
def test_which_posters_to_reprint_since_a_day(run: Cli, backend: str) -> None:
    story = reprint_story(run)

    text = run("links", "--changed-since", "2026-03-01").stdout
    assert text.startswith("2 links got a new URL since 2026-03-01T00:00:00+00:00. Replace")
    assert f"    old: {story.sale_before}\n    new: {story.sale_after}\n" in text
    assert f"    old: {story.vip_before}\n    new: {story.vip_after}\n" in text

    later = json.loads(
        run("links", "--changed-since", story.moment, "--format", "json").stdout
    )
    assert later == {
        "since": story.moment,
        "url_changes": [
            {
                "channel": "acmepets",
                "title": VIP[1],
                "where": "ads",
                "old_url": story.vip_before,
                "new_url": story.vip_after,
                "status": "applied",
                "current_url": story.vip_after,
            }
        ],
    }
    after_all = run("links", "--changed-since", "2999-01-01").stdout
    assert after_all.startswith("No link got a new URL since 2999-01-01")

    # history: every channel's, from the moment on, one channel's
    since = json.loads(run("history", "--since", story.moment, "--format", "json").stdout)
    assert [(h["channel"], h["title"], h["event"]) for h in since["history"]] == [
        ("acmepets", VIP[1], "regenerated")
    ]
    whole = json.loads(run("history", "--format", "json").stdout)["history"]
    assert {h["channel"] for h in whole} == {"acmepets", "acmepets.global"}
    assert len(whole) == 8 + 2
    text = run("history").stdout
    assert text.splitlines()[0] == "URL history of every channel, oldest first:"
    assert 'created      acmepets.global / "Influencer Promo"' in text
    sale = json.loads(run("history", *SALE, "--since", "2026-03-01", "--format", "json").stdout)
    assert [h["event"] for h in sale["history"]] == ["created", "regenerated"]
    # a plan file named like a date is told apart by its path
    missing = run("links", "--changed-since", "./2026-03-01", code=1)
    assert "2026-03-01" in missing.stderr


@pytest.mark.parametrize("fmt", ["text", "html"])
@pytest.mark.parametrize("value", ["2026-02-30", "2026-02-28T25:00"])
def test_a_date_that_names_no_day_is_not_taken_for_a_plan_file(
    run: Cli, fmt: str, value: str
) -> None:
    run("sandbox", "connect", "acmepets")
    result = run("links", "--changed-since", value, "--format", fmt, code=1)
    assert "no such plan file" not in result.stderr
    assert f"Invalid value for '--changed-since': '{value}' is not a valid date or time (" in (
        result.stderr
    )
    assert "give a date (2026-03-01) or an ISO 8601 time (2026-03-01T09:30:00+02:00)" in (
        result.stderr
    )
    assert f"a plan file named like a date is given by its path (./{value})" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@both_backends
def test_the_page_marks_what_changed_since_a_day(run: Cli, backend: str) -> None:
    story = reprint_story(run)
    page = run.tmp / "links.html"
    run("links", "--format", "html", "--out", page, "--changed-since", story.moment)
    html = page.read_text(encoding="utf-8")
    assert html.count('class="link changed"') == 1
    assert story.vip_before.replace("&", "&amp;") in html
    assert story.sale_before.replace("&", "&amp;") not in html
    # by default, the last 30 days: both
    default = run("links", "--format", "html").stdout
    assert default.count('class="link changed"') == 2
    assert "in the last 30 days" in default
    workspace = "SleekFlow API http://" if backend == "http" else "local workspace "
    assert f"of <bdi>{workspace}" in default


@both_backends
def test_qr_runs_say_which_codes_to_print_again(run: Cli, backend: str) -> None:
    apply_example(run)
    out = run.tmp / "qr"
    first = run("qr", "--out", out).stdout
    assert first.splitlines()[-1] == f"Wrote 8 QR codes to {out}."
    again = run("qr", "--out", out).stdout
    assert again == f"Wrote 0 QR codes to {out}; 8 unchanged.\n"

    data = example()
    link_of(data, *VIP)["message"] = "Join our VIP program today"
    data["channels"][0]["links"] = [
        lk for lk in data["channels"][0]["links"] if lk["title"] != SALE[1]
    ]
    run.write(data)
    run("apply", run.config, "--auto-approve", "--allow-removals")
    changed = run("qr", "--out", out).stdout.splitlines()
    assert changed == [
        f"{out / 'acmepets--vip-program.svg'}  acmepets / VIP Program  "
        "(version 8, error correction Q)",
        f"stale {out / 'acmepets--ad-summer-sale.svg'}  (no link has this code now; "
        "--prune removes it)",
        f"Wrote 1 QR code to {out}; 6 unchanged; 1 stale (--prune removes them).",
    ]
    pruned = run("qr", "--out", out, "--prune").stdout.splitlines()
    assert pruned == [
        f"removed {out / 'acmepets--ad-summer-sale.svg'}  (no link has this code now)",
        f"Wrote 0 QR codes to {out}; 7 unchanged; 1 removed.",
    ]
    assert len(list(out.iterdir())) == 7
    assert (out / "acmepets.global--bio-link-espanol.svg").is_file()
