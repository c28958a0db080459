"""Images in guides: local ones packaged as Anki media and shown, remote ones reported."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import assert_healthy_import, fresh_collection, import_package


def png(colour: tuple[int, int, int]) -> bytes:
    """A 1x1 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00" + bytes(colour)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


GUIDE = """# Diagrams

## Request flow

| Step | Picture |
|---|---|
| DNS lookup | ![resolver](img/dns.png) |
| TLS handshake | <img src="img/tls.png" alt="handshake"> |
| Load balancer | ![remote](https://example.com/lb.png) |
| Cache | ![missing](img/cache.png) |
"""


def _diagrams(tmp_path: Path) -> Path:
    """The diagrams guide with two of its three local images beside it."""
    guide = tmp_path / "guides" / "diagrams.md"
    (guide.parent / "img").mkdir(parents=True)
    guide.write_text(GUIDE, encoding="utf-8")
    (guide.parent / "img" / "dns.png").write_bytes(png((200, 0, 0)))
    (guide.parent / "img" / "tls.png").write_bytes(png((0, 0, 200)))
    return guide


def test_local_images_travel_with_the_deck(tmp_path: Path) -> None:
    guide = _diagrams(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(guide), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{guide}:9:1: warning: image https://example.com/lb.png is on the web" in result.output
    assert f"{guide}:10:1: warning: image 'img/cache.png' not found beside the guide" in (
        result.output
    )
    col = fresh_collection(tmp_path / "anki")
    try:
        cards = assert_healthy_import(col, import_package(col, out / "diagrams.apkg"), 4)
        media = Path(col.media.dir())
        shown = {c.fields["Subject"]: c.answer for c in cards}
        names = set()
        for card in cards:
            names |= set(re.findall(r'src="(gd-[0-9a-f]{16}\.png)"', card.answer))
        assert len(names) == 2 and all((media / n).is_file() for n in names)
        assert {(media / n).read_bytes() for n in names} == {
            png((200, 0, 0)),
            png((0, 0, 200)),
        }
        everything = " ".join(shown.values())
        assert "example.com" not in everything and "[image: remote]" in everything
        assert "[image: missing]" in everything
    finally:
        col.close()
    # the preview shows them too, from data: URLs (its pages load nothing)
    result = CliRunner().invoke(main, ["preview", str(guide), "--out", str(tmp_path / "pv")])
    assert result.exit_code == 0, result.output
    page = next(p for p in (tmp_path / "pv").glob("*.html") if p.name != "index.html")
    assert page.read_text(encoding="utf-8").count('src="data:image/png;base64,') >= 2


def test_every_command_reports_the_images_it_cannot_show(tmp_path: Path) -> None:
    """One prepare stage for every command: ``list`` reports image problems as build does."""
    guide = _diagrams(tmp_path)
    for command in ("check", "list", "build", "preview"):
        out = tmp_path / f"out-{command}"
        extra = [] if command == "list" else ["--out", str(out)]
        result = CliRunner().invoke(main, [command, str(guide), *extra])
        assert result.exit_code == 0, (command, result.output)
        assert f"{guide}:9:1: warning: image https://example.com/lb.png is on the web" in (
            result.output
        ), command
        assert f"{guide}:10:1: warning: image 'img/cache.png' not found" in result.output, command
