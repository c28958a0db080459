"""Code on a phone (issue #26): cards as the Anki engine renders them, in headless Chromium at
390x844 inside AnkiDroid's page shell, light and night.

- A code block wider than the card scrolls inside itself and shows a shade at each edge that
  hides more code; the shade goes once that edge is reached, and a block that fits has none.
  The shade is read from the screenshot's pixels, not from the stylesheet.
- A quiz's own code wraps: every character of it is inside the block, none out of sight.
- Code is never bold, not even inside a bold question.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.anki_engine import fresh_collection, import_package
from tests.conftest import FIXTURES
from tests.test_decks import build_one
from tests.test_preview import ARTIFACTS, VIEWPORT
from tests.test_quiz_tap import Server, Tab, _droid

GUIDE = FIXTURES / "phone" / "wide_code.md"


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The fixture's quiz and scenario, front and back, as Anki renders them."""
    root = tmp_path_factory.mktemp("phone")
    apkg = build_one(GUIDE, root / "out")
    col = fresh_collection(root / "anki")
    try:
        import_package(col, apkg)
        out = {}
        for cid in col.find_cards('"note:guidedeck*"'):
            card = col.get_card(cid)
            rendered = card.render_output()
            kind = card.note().note_type()["name"].split()[-1].lower()
            out[kind] = {"front": rendered.question_text, "back": rendered.answer_text,
                         "css": rendered.css}  # fmt: skip
    finally:
        col.close()
    assert set(out) == {"quiz", "scenario"}
    return out


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    serving = Server(tmp_path)
    yield serving
    serving.close()


EDGES = """
(pre) => {
  pre.scrollIntoView({block: 'center'});
  const r = pre.getBoundingClientRect();
  // the bottom padding: below the last line, so only the block's own background is there
  const y = r.bottom - 4;
  return {y, left: r.left + 4, middle: r.left + r.width / 2, right: r.right - 4,
          scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth};
}
"""


def _pixels(page: Any, points: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    y = round(points["y"])
    return {k: image.getpixel((round(points[k]), y)) for k in ("left", "middle", "right")}


def _shaded(pixels: dict[str, tuple[int, int, int]], edge: str) -> bool:
    """Whether ``edge`` differs visibly from the block's plain background (its middle)."""
    return sum(abs(a - b) for a, b in zip(pixels[edge], pixels["middle"], strict=True)) >= 24


@pytest.mark.parametrize("night", ["", "night_mode"], ids=["light", "night"])
def test_a_wide_code_block_shows_the_edge_that_hides_more(
    browser: Any, server: Server, sides: dict[str, dict[str, str]], night: str
) -> None:
    scenario = sides["scenario"]
    tab = Tab(browser)
    try:
        tab.page.goto(_droid(server, "front.html", scenario["front"], scenario["css"], night))
        wide = tab.page.locator("pre.gd-code").filter(has_text="status=413").first
        points = wide.evaluate(EDGES)
        assert points["scrollWidth"] > points["clientWidth"], "the line is wider than a phone"
        start = _pixels(tab.page, points)
        assert _shaded(start, "right") and not _shaded(start, "left"), start
        tab.page.screenshot(path=str(ARTIFACTS / f"phone-code-scrolls-{night or 'light'}.png"))
        wide.evaluate("pre => { pre.scrollLeft = pre.scrollWidth; }")
        end = _pixels(tab.page, wide.evaluate(EDGES))
        assert _shaded(end, "left") and not _shaded(end, "right"), end
        # the page itself never scrolls sideways
        assert tab.page.evaluate("document.scrollingElement.scrollWidth") <= VIEWPORT["width"]
        assert tab.errors == []
    finally:
        tab.close()


def test_a_code_block_that_fits_has_no_shade(
    browser: Any, server: Server, sides: dict[str, dict[str, str]]
) -> None:
    quiz = sides["quiz"]
    narrow = quiz["back"].replace(
        '<div class="gd-explanation">',
        '<div class="gd-explanation"><pre class="gd-code"><code>short = 1\n\n</code></pre>',
        1,
    )
    assert narrow != quiz["back"]
    tab = Tab(browser)
    try:
        tab.page.goto(_droid(server, "back.html", narrow, quiz["css"]))
        block = tab.page.locator(".gd-explanation pre.gd-code").first
        points = block.evaluate(EDGES)
        assert points["scrollWidth"] <= points["clientWidth"]
        pixels = _pixels(tab.page, points)
        assert not _shaded(pixels, "left") and not _shaded(pixels, "right"), pixels
    finally:
        tab.close()


WRAPPED = """
() => {
  const out = [];
  const blocks = '.gd-question pre.gd-code, .gd-options pre.gd-code';
  for (const pre of document.querySelectorAll(blocks)) {
    const box = pre.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(pre);
    const outside = [...range.getClientRects()].filter(
      (r) => r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5));
    out.push({scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth,
              outside: outside.length, height: box.height,
              lines: pre.textContent.split('\\n').filter((l) => l.trim()).length});
  }
  return out;
}
"""


INDENTS = """
() => {
  // for each line of the question's code: where its first character is drawn, and where its
  // indentation says it should be (the block's left edge plus that many characters)
  const pre = document.querySelector('.gd-question pre.gd-code');
  const nodes = [];
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  const charAt = (offset) => {
    for (const node of nodes) {
      if (offset < node.length) {
        const range = document.createRange();
        range.setStart(node, offset);
        range.setEnd(node, offset + 1);
        return range.getClientRects()[0];
      }
      offset -= node.length;
    }
    return null;
  };
  const text = pre.textContent;
  const first = charAt(0);
  const out = [];
  let start = 0;
  for (const line of text.split('\\n')) {
    const indent = line.length - line.trimStart().length;
    if (line.trim()) {
      const rect = charAt(start + indent);
      out.push({line: line.trim().slice(0, 24), left: rect.left,
                expected: first.left + indent * first.width});
    }
    start += line.length + 1;
  }
  return out;
}
"""


def test_wrapped_quiz_code_keeps_every_line_at_its_indentation(
    browser: Any, server: Server, sides: dict[str, dict[str, str]]
) -> None:
    """A wrapped line's continuation is indented, but every line of the source starts where
    its own indentation puts it: none is pushed to the next row, where it would look less
    indented than it is."""
    quiz = sides["quiz"]
    tab = Tab(browser)
    try:
        tab.page.goto(_droid(server, "front.html", quiz["front"], quiz["css"]))
        lines = tab.page.evaluate(INDENTS)
        assert len(lines) == 10
        for line in lines:
            assert abs(line["left"] - line["expected"]) < 1, line
    finally:
        tab.close()


@pytest.mark.parametrize("side", ["front", "back"])
def test_a_quiz_shows_all_of_its_code(
    browser: Any, server: Server, sides: dict[str, dict[str, str]], side: str
) -> None:
    quiz = sides["quiz"]
    tab = Tab(browser)
    try:
        tab.page.goto(_droid(server, f"{side}.html", quiz[side], quiz["css"]))
        blocks = tab.page.evaluate(WRAPPED)
        assert blocks, "the quiz's question holds code"
        for block in blocks:
            assert block["scrollWidth"] <= block["clientWidth"], block
            assert block["outside"] == 0, block
        question = tab.page.locator(".gd-question").first
        question.screenshot(path=str(ARTIFACTS / f"phone-quiz-code-{side}.png"))
        # the last line, which holds what the question asks about, is on screen
        last = tab.page.get_by_text("url_that_failed").first
        assert last.is_visible()
        box, pre = last.bounding_box(), tab.page.locator(".gd-question pre.gd-code").bounding_box()
        assert box and pre and box["x"] + box["width"] <= pre["x"] + pre["width"] + 0.5
        weights = tab.page.evaluate(
            """() => ({
              question: getComputedStyle(document.querySelector('.gd-question')).fontWeight,
              code: [...document.querySelectorAll('.gd-question code, .gd-options code')]
                .map((c) => getComputedStyle(c).fontWeight),
            })"""
        )
        assert weights["question"] == "600"
        assert weights["code"] and set(weights["code"]) == {"400"}, weights
        assert tab.errors == []
    finally:
        tab.close()
