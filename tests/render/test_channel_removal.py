"""A channel removal shows what it takes (issue 15): every format lists each link the removed
channel takes with it and its URL, which keeps working, untracked; the markdown banner for
removals counts them; the JSON plan carries them under ``before.links``."""

from __future__ import annotations

import json

from reconciler import plan as planner
from reconciler.model import link_url
from reconciler.plan import Plan
from reconciler.render import json as render_json
from reconciler.render import markdown, text
from tests.helpers import assert_valid_plan_json, channel, dc, desired, link, workspace

OLD = "oldbrand"
TITLES = [f"Store {i} poster" for i in range(1, 12)]


def _plan() -> Plan:
    links = [
        link(i, title, f"Hi from store {i}!", account=OLD) for i, title in enumerate(TITLES, 1)
    ]
    return planner.build(
        desired(dc(OLD, remove=True)), workspace(channel(OLD, "Old Brand", *links))
    )


def _urls() -> list[str]:
    return [link_url(OLD, None, f"Hi from store {i}!") for i in range(1, 12)]


def test_text_lists_the_eleven_links_and_their_urls() -> None:
    out = text.render_plan(_plan())
    lines = out.splitlines()
    start = lines.index('    - remove channel "Old Brand"  IRREVERSIBLE')
    assert lines[start + 1 : start + 3] == [
        "      disconnects the TikTok account from SleekFlow and removes its 11 links; Flow "
        "Builder flows using it may break",
        "      the URLs of its links keep working with their messages, but are no longer tracked:",
    ]
    assert lines[start + 3 : start + 14] == [
        f'        "{title}": {url}' for title, url in zip(TITLES, _urls(), strict=True)
    ]
    assert lines[-1] == "Plan: 1 to remove (IRREVERSIBLE)."


def test_markdown_counts_them_in_the_banner_and_lists_each_in_banner_and_table() -> None:
    out = markdown.render_plan(_plan())
    assert "> **1 irreversible removal, and 11 links the removed channel takes with it.** " in out
    assert (
        "> - Old Brand (`oldbrand`): the channel is disconnected with its 11 links (listed); "
        "Flow Builder flows using it may break" in out
    )
    for title, url in zip(TITLES, _urls(), strict=True):
        assert (
            f"> - `oldbrand` / {title}: `{url}` (stays live, untracked; taken with the channel)"
            in out
        )
        assert f"| 🗑️ with the channel | {title} | the URL stays live, untracked | `{url}` |" in out
    assert "**disconnect the channel and its 11 links** (irreversible)" in out


def test_json_carries_them_under_before_links() -> None:
    data = assert_valid_plan_json(render_json.render_plan(_plan()))
    (change,) = data["changes"]
    assert (change["action"], change["resource"], change["after"]) == ("remove", "channel", None)
    assert change["before"]["display_name"] == "Old Brand"
    assert change["before"]["links"] == [
        {"title": title, "ref": None, "message": f"Hi from store {i}!", "url": url}
        for i, (title, url) in enumerate(zip(TITLES, _urls(), strict=True), 1)
    ]
    assert json.loads(render_json.render_plan(_plan())) == data  # deterministic
