"""QR codes: each PNG decodes back to its link's URL (zxing-cpp, a decoder independent of
segno), long URLs fit or fail clearly, metadata is there, and file names are safe, unique and
stable whatever the title."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import segno
import yaml
import zxingcpp
from PIL import Image

from reconciler import qr
from reconciler.errors import QrError
from reconciler.links import LinkRow
from reconciler.model import link_url
from reconciler.qr import png
from tests.helpers import EXAMPLE, png_text

SAFE_NAME = re.compile(r"^[a-z0-9_][a-z0-9_.-]*--[a-z0-9-]+\.(svg|png)$")


def row(
    title: str,
    message: str = "Hi!",
    ref: str | None = None,
    channel: str = "acmepets",
    seq: int = 0,
) -> LinkRow:
    return LinkRow(
        channel, title, ref, message, link_url(channel, ref, message), seq=seq, link_id=str(seq)
    )


def example_rows() -> list[LinkRow]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return [
        row(lk["title"], lk["message"], lk.get("ref"), c["account"])
        for c in data["channels"]
        for lk in c.get("links", [])
    ]


def decode(png: bytes) -> tuple[str, str]:
    """The text of the one QR code in ``png``, and its error correction level."""
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return found.text, found.ec_level


# --- the round trip -------------------------------------------------------------------------


def test_every_png_decodes_to_its_url() -> None:
    rows = example_rows()
    files = qr.build(rows, "png")
    assert len(files) == len(rows) == 8
    for item, link in zip(files, rows, strict=True):
        text, level = decode(item.content)
        assert text == link.url
        assert level in ("Q", "H")  # Q, or H where the code had room for it
        assert item.error == level and not item.downgraded


def test_a_500_unit_emoji_message_still_fits_and_decodes() -> None:
    message = "🐶" * 250  # 500 UTF-16 code units: the longest message allowed
    link = row("Emoji flood", message, "summer2025")
    assert len(link.url) > 2953  # more than any QR code holds as bytes
    (item,) = qr.build([link], "png")
    text, level = decode(item.content)
    assert text == link.url
    # too long for Q; mixed modes make it fit with M, and the CLI warns about it
    assert (item.error, level, item.downgraded) == ("M", "M", True)
    assert item.version <= 40


def test_a_url_no_qr_code_can_hold_is_a_clear_error() -> None:
    message = "日本語" * 166 + "日本"  # 500 units, 9 URL characters each once encoded
    links = [row("Fine", "Hi"), row("Too long", message), row("Also too long", "ア" * 500)]
    with pytest.raises(QrError) as err:
        qr.build(links, "png")
    text = str(err.value)
    assert text.startswith("2 links can't be made into a QR code; no file was written:")
    assert "acmepets / Too long: the URL is" in text
    assert "acmepets / Also too long" in text
    assert "Fine" not in text


def test_a_non_ascii_url_is_encoded_as_utf8() -> None:
    link = LinkRow("acmepets", "Odd", None, "é", "https://tiktok.me/acmepets?message=日本")
    (item,) = qr.build([link], "png")
    assert decode(item.content)[0] == link.url


# --- metadata -------------------------------------------------------------------------------


def test_png_metadata_has_the_title_and_url() -> None:
    link = row("Bio Link - 日本語", "こんにちは", "bio_ja", "acmepets.global")
    (item,) = qr.build([link], "png")
    image = Image.open(io.BytesIO(item.content))
    text = png_text(item.content)
    stamp = text.pop("reconciler-qr")  # what lets a re-run leave the file alone
    assert text == {
        "Title": "acmepets.global / Bio Link - 日本語",
        "Description": link.url,
        "URL": link.url,
        "Software": "reconciler",
    }
    assert stamp.split(" ")[1:3] == [str(item.version), item.error]
    dpi = image.info["dpi"]
    assert round(dpi[0]) == round(dpi[1]) == qr.PNG_DPI
    # 1 mm a module: (modules + 2 quiet zones) * 12 px
    modules = 17 + 4 * item.version + 2 * qr.QUIET_ZONE
    assert image.size == (modules * qr.PNG_SCALE, modules * qr.PNG_SCALE)


def test_png_metadata_of_a_hostile_title_is_visible_text() -> None:
    link = row("Evil\x00\x1b[2J\ud800")
    (item,) = qr.build([link], "png")
    assert png_text(item.content)["Title"] == ("acmepets / Evil\\u0000\\u001b[2J\\ud800")


def test_svg_is_valid_xml_in_millimetres_with_title_and_desc() -> None:
    link = row("Tom & Jerry <3 \x01\ufffe", "Hi & bye", "t")
    (item,) = qr.build([link], "svg")
    root = ET.fromstring(item.content)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert root.findtext("svg:title", namespaces=ns) == "acmepets / Tom & Jerry <3 \\u0001\\ufffe"
    assert root.findtext("svg:desc", namespaces=ns) == link.url
    size = 17 + 4 * item.version + 2 * qr.QUIET_ZONE
    assert (root.get("width"), root.get("height")) == (f"{size}mm", f"{size}mm")
    assert root.find("svg:path", ns) is not None


def test_output_is_deterministic() -> None:
    rows = example_rows()
    for fmt in qr.FORMATS:
        assert [(f.filename, f.content) for f in qr.build(rows, fmt)] == [
            (f.filename, f.content) for f in qr.build(rows, fmt)
        ]


# --- file names -----------------------------------------------------------------------------


def names(*titles: str, channel: str = "acmepets", ext: str = "svg") -> list[str]:
    return qr.filenames([row(t, channel=channel, seq=i) for i, t in enumerate(titles)], ext)


def test_plain_titles_give_readable_names() -> None:
    assert names("VIP Program", "Ad - Summer Sale", ext="png") == [
        "acmepets--vip-program.png",
        "acmepets--ad-summer-sale.png",
    ]
    assert names("June Giveaway", channel="Acme.Pets_2") == ["acme.pets_2--june-giveaway.svg"]


def test_titles_are_transliterated_to_ascii_before_a_hash_is_needed() -> None:
    assert names("Bio Link - Español", "Bio Link - 日本語", "Bio Link - Français") == [
        "acmepets--bio-link-espanol.svg",
        "acmepets--bio-link-ribenyu.svg",
        "acmepets--bio-link-francais.svg",
    ]
    assert names("Grüße aus Köln", "Привет", "🐶 Dog Day") == [
        "acmepets--grusse-aus-koln.svg",
        "acmepets--privet.svg",
        "acmepets--dog-dog-day.svg",
    ]
    # a title that transliterates like another still gets its hash, both of them do
    assert names("Español", "Espanol") == [
        f"acmepets--espanol-{qr.title_hash('Español')}.svg",
        f"acmepets--espanol-{qr.title_hash('Espanol')}.svg",
    ]


def test_a_title_with_nothing_to_spell_gets_a_stable_hash() -> None:
    (only,) = names("¿?")
    assert only == f"acmepets--link-{qr.title_hash('¿?')}.svg"
    assert names("¿?", "¡!") == [only, f"acmepets--link-{qr.title_hash('¡!')}.svg"]
    assert names("¿?") == [only]


@pytest.mark.parametrize(
    "title",
    [
        "../../etc/passwd",
        "..",
        ".hidden",
        "a/b\\c",
        "nul\x00byte",
        "x" * 300,
        "CON",
        "   ",
        "-rf",
        "🐶" * 100,
        "\u202eevil\u202dgpj.exe",
        "\ud800",
    ],
)
def test_hostile_titles_give_safe_names(title: str) -> None:
    (name,) = names(title)
    assert SAFE_NAME.match(name), name
    assert len(name.encode()) <= 120
    assert "/" not in name and "\\" not in name and "\x00" not in name and ".." not in name


def test_hostile_accounts_give_safe_names() -> None:
    for account in ("../..", ".acme", "a/b", "x" * 300, "\x00"):
        (name,) = names("t", channel=account)
        assert SAFE_NAME.match(name) and not name.startswith("."), name
        assert len(name) <= 120


def test_titles_that_slug_alike_all_get_their_hash() -> None:
    result = names("Summer Sale!", "summer-sale", "VIP")
    assert result == [
        f"acmepets--summer-sale-{qr.title_hash('Summer Sale!')}.svg",
        f"acmepets--summer-sale-{qr.title_hash('summer-sale')}.svg",
        "acmepets--vip.svg",
    ]
    # the order of the links doesn't change the names
    assert names("VIP", "summer-sale", "Summer Sale!") == result[::-1]


def test_equal_titles_are_numbered_in_creation_order() -> None:
    assert names("Same", "Same", "Same") == [
        f"acmepets--same-{qr.title_hash('Same')}.svg",
        f"acmepets--same-{qr.title_hash('Same')}-2.svg",
        f"acmepets--same-{qr.title_hash('Same')}-3.svg",
    ]


def test_long_titles_are_cut_and_stay_unique() -> None:
    a, b = names("x" * 100 + "a", "x" * 100 + "b")
    assert a != b and len(a) <= 120 and len(b) <= 120


# --- writing --------------------------------------------------------------------------------


def test_write_creates_the_directory_and_writes_only_what_changed(tmp_path: Path) -> None:
    files = qr.build([row("VIP"), row("Bio", seq=1)], "png")
    out = tmp_path / "new" / "qr"
    done = qr.write(files, out)
    assert done.written == (out / "acmepets--vip.png", out / "acmepets--bio.png")
    assert done.unchanged == () and done.stale == ()
    assert [p.read_bytes() for p in done.written] == [f.content for f in files]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in done.written)  # no temp
    stamp = (out / "acmepets--vip.png").stat().st_mtime_ns
    os.utime(out / "acmepets--vip.png", ns=(stamp - 10**9, stamp - 10**9))
    again = qr.write(files, out)  # the same bytes: nothing written
    assert again.written == () and again.unchanged == done.written
    assert (out / "acmepets--vip.png").stat().st_mtime_ns == stamp - 10**9
    # the VIP link's message changed: only its code is written
    changed = qr.build([row("VIP", message="Hi again!"), row("Bio", seq=1)], "png")
    third = qr.write(changed, out)
    assert third.written == (out / "acmepets--vip.png",)
    assert third.unchanged == (out / "acmepets--bio.png",)


def test_codes_of_links_gone_are_stale_and_pruned_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "qr"
    qr.write(qr.build([row("VIP"), row("Old", seq=1), row("Z", channel="zoo")], "svg"), out)
    qr.write(qr.build([row("Old", seq=1)], "png"), out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "acmepets--readme.md").write_text("mine", encoding="utf-8")
    rows = [row("VIP")]
    now = qr.build(rows, "png")
    # the whole workspace: every code of ours no link has now, of any channel and format
    done = qr.write(now, out, scope=None)
    assert [p.name for p in done.stale] == [
        "acmepets--old.png",
        "acmepets--old.svg",
        "zoo--z.svg",
    ]
    assert (out / "acmepets--vip.svg").exists()  # the same link in the other format: kept
    # one channel asked for: only its codes; some titles asked for: none
    only = qr.stale_scope(rows, channels=["AcmePets"], titles=[], whole=False)
    assert [p.name for p in qr.write(now, out, scope=only).stale] == [
        "acmepets--old.png",
        "acmepets--old.svg",
    ]
    some = qr.stale_scope(rows, channels=[], titles=["VIP"], whole=True)
    assert qr.write(now, out, scope=some).stale == ()
    assert qr.stale_scope(rows, channels=[], titles=[], whole=True) is None
    assert qr.stale_scope(rows, channels=[], titles=[], whole=False) == {"acmepets"}
    pruned = qr.write(now, out, scope=None, prune=True)
    assert pruned.pruned and len(pruned.stale) == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "acmepets--readme.md",
        "acmepets--vip.png",
        "acmepets--vip.svg",
        "notes.txt",
    ]


def test_write_replaces_a_symlink_rather_than_following_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    out = tmp_path / "qr"
    out.mkdir()
    (out / "acmepets--vip.png").symlink_to(outside)
    (item,) = qr.build([row("VIP")], "png")
    qr.write([item], out)
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert not (out / "acmepets--vip.png").is_symlink()


def test_write_refuses_a_name_with_a_directory_part(tmp_path: Path) -> None:
    (item,) = qr.build([row("VIP")], "png")
    for bad in ("../escape.png", "sub/x.png", ".hidden.png", "..", "a\x00b.png"):
        forged = qr.QrFile(bad, item.content, item.row, item.version, item.error)
        with pytest.raises(QrError, match="refusing to write"):
            qr.write([forged], tmp_path / "qr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qr"]
    assert list((tmp_path / "qr").iterdir()) == []


def test_an_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    files = qr.build([row("VIP")], "svg")
    with pytest.raises(QrError, match=f"to {re.escape(str(afile))}: it is a file, not a"):
        qr.write(files, afile)
    with pytest.raises(QrError, match="cannot write QR codes to"):
        qr.write(files, afile / "sub")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(QrError, match="cannot write"):
            qr.write(files, locked)


def _every_candidate_in_full(url: str) -> Any:
    """``qr.encode`` as it was before its probing: every candidate made in full at each
    level, the smallest version winning (the plain URL on a tie)."""
    candidates: list[Any] = [url]
    parts = [p for p in re.split(r"([0-9A-Z $%*+\-./:]{16,})", url) if p]
    if len(parts) > 1:
        candidates.append(parts)
    for error in qr.ERROR_LEVELS:
        made = []
        for content in candidates:
            try:
                made.append(segno.make(content, error=error, micro=False))
            except segno.DataOverflowError:
                continue
        if made:
            return min(made, key=lambda code: int(code.version))
    raise AssertionError("too long")


@pytest.mark.parametrize("message", ["Hi!", "日本語 🐶" * 12, "x" * 400, "🐶" * 250, "a%b " * 60])
def test_probing_with_one_mask_picks_the_same_code(message: str) -> None:
    urls = [r.url for r in example_rows()] + [link_url("acmepets", "ref", message)]
    for url in urls:
        fast, full = qr.encode(url), _every_candidate_in_full(url)
        assert (fast.version, fast.error, fast.mask) == (full.version, full.error, full.mask)
        assert fast.matrix == full.matrix


# --- re-runs: a file that provably holds its code is not encoded again ----------------------


@pytest.mark.parametrize("fmt", qr.FORMATS)
def test_a_stamped_file_is_reused_without_encoding(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [row("VIP"), row("Bio", "Hola 🐶", seq=1)]
    first = qr.build(rows, fmt)
    qr.write(first, tmp_path)

    def no_encoding(url: str) -> Any:
        raise AssertionError(f"encoded {url} again")

    monkeypatch.setattr("reconciler.qr.batch.encode", no_encoding)
    again = qr.build(rows, fmt, reuse=tmp_path)
    assert [(f.filename, f.content, f.version, f.error) for f in again] == [
        (f.filename, f.content, f.version, f.error) for f in first
    ]
    done = qr.write(again, tmp_path)
    assert done.written == () and len(done.unchanged) == 2


@pytest.mark.parametrize("fmt", qr.FORMATS)
def test_a_file_not_provably_the_code_is_made_again(fmt: str, tmp_path: Path) -> None:
    (vip,) = qr.build([row("VIP")], fmt)
    path = tmp_path / vip.filename
    fresh = qr.build([row("VIP", "Changed")], fmt, reuse=tmp_path)[0].content
    # no file; a file of another URL's code; the same stamp over other bytes
    assert fresh != vip.content
    path.write_bytes(vip.content)
    assert qr.build([row("VIP", "Changed")], fmt, reuse=tmp_path)[0].content == fresh
    tampered = vip.content.replace(b"\x00\x00\x00", b"\x00\x00\x01", 1)
    if fmt == "svg":
        tampered = vip.content.replace(b"<path", b'<path fill="red"', 1)
    assert tampered != vip.content
    path.write_bytes(tampered)
    assert qr.build([row("VIP")], fmt, reuse=tmp_path)[0].content == vip.content


def test_a_url_shared_by_two_links_is_encoded_once() -> None:
    qr.encode.cache_clear()
    url = link_url("acmepets", "shared", "Same message")
    assert qr.encode(url) is qr.encode(url)
    assert qr.encode.cache_info().hits == 1


@pytest.mark.parametrize("message", ["Hi!", "日本語 🐶" * 12, "🐶" * 250])
def test_the_png_writer_writes_segnos_bytes(message: str) -> None:
    """``qr.png`` (rows at a time) against segno's own PNG writer: byte for byte."""
    code = qr.encode(link_url("acmepets", "ref", message))
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=qr.PNG_SCALE, border=qr.QUIET_ZONE, dpi=qr.PNG_DPI)
    ours = png.write(code.matrix, scale=qr.PNG_SCALE, border=qr.QUIET_ZONE, dpi=qr.PNG_DPI)
    assert ours == buffer.getvalue()
    odd = png.write(code.matrix, scale=3, border=1, dpi=72)  # rows not a whole number of bytes
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=3, border=1, dpi=72)
    assert odd == buffer.getvalue()


def test_codes_made_by_worker_processes_are_the_codes_made_here() -> None:
    urls = [link_url("acmepets", f"r{i}", f"Offer {i} 🐶") for i in range(6)]
    too_long = link_url("acmepets", "long", "ア" * 500)
    asked = [*urls, urls[0], too_long]
    pooled = qr.encode_all(asked, workers=2, minimum=1)
    here = qr.encode_all(asked, workers=1)
    assert list(pooled) == list(here) == [*urls, too_long]  # each URL once, in order
    for url in urls:
        made, local = pooled[url], here[url]
        assert not isinstance(made, QrError) and not isinstance(local, QrError)
        assert (made.matrix, made.version, made.error) == (local.matrix, local.version, local.error)
    assert isinstance(pooled[too_long], QrError) and str(pooled[too_long]) == str(here[too_long])


_POOLED = """
import os, sys, threading
from reconciler.qr import batch
from reconciler.model import link_url

made_in = sys.argv[1]
original = batch.encode_chunk

def watched(urls):
    with open(made_in, "a") as out:
        out.write(f"{os.getpid()}\\n")
    return original(urls)

batch.encode_chunk = watched
urls = [link_url("acmepets", f"r{i}", f"Offer {i}") for i in range(4)]
made = batch.encode_all(urls, workers=2, minimum=1)
assert list(made) == urls and threading.active_count() == 1
print(os.getpid())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_a_process_running_no_other_thread_really_encodes_in_workers(tmp_path: Path) -> None:
    # In a fresh interpreter: this test process may hold other threads (a sandbox's), and
    # then, rightly, no worker is forked.
    made_in = tmp_path / "pids"
    result = subprocess.run(
        [sys.executable, "-c", _POOLED, str(made_in)], capture_output=True, text=True, check=True
    )
    workers = set(made_in.read_text().split())
    assert workers and result.stdout.strip() not in workers


def test_prune_removes_only_codes_reconciler_made(tmp_path: Path) -> None:
    """'qr --out assets/ --prune' took every NAME--NAME.svg or .png in the directory for a
    stale code (a brand's 'acme--logo.svg' was deleted): only a file carrying reconciler's
    stamp is a code of ours."""
    out = tmp_path / "assets"
    qr.write(qr.build([row("VIP"), row("Old", seq=1)], "svg"), out)
    logo = out / "acme--logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (out / "acme--banner.png").write_bytes(b"\x89PNG\r\n\x1a\n not ours")
    done = qr.write(qr.build([row("VIP")], "svg"), out, scope=None, prune=True)
    assert [p.name for p in done.stale] == ["acmepets--old.svg"]
    assert sorted(p.name for p in out.iterdir()) == [
        "acme--banner.png",
        "acme--logo.svg",
        "acmepets--vip.svg",
    ]
