"""``guidedeck preview`` in a real headless browser (Debian's Chromium, driven by Playwright).

Layout, type size, contrast and highlighting are measured in the rendered page at 390x844, in
light and night mode, for each card kind; the controls are clicked. Screenshots are written to
``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from guidedeck.highlight import contrast
from tests.conftest import FIXTURES, ROOT, copy_guides, out_names

ARTIFACTS = ROOT / "test-artifacts"
VIEWPORT = {"width": 390, "height": 844}
KINDS = ["quiz", "fact", "contrast", "scenario"]
SAMPLE = ROOT / "deck_source" / "backend-basics.md"
SAMPLE_PAGE = "backend-engineering-basics-a-sample-interview-guide.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A preview of the sample guide and two fixture guides."""
    root = tmp_path_factory.mktemp("preview")
    guides = copy_guides(root / "guides", SAMPLE, FIXTURES / "parse" / "quick_check.md",
                         FIXTURES / "parse" / "contrasts.md")  # fmt: skip
    out = root / "site"
    result = CliRunner().invoke(main, ["preview", *map(str, guides), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 deck(s)" in result.output
    return out


class Page:
    """A browser tab on a preview page, recording every request it makes."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport=VIEWPORT)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss())
        )
        self.page.goto(url)

    def __enter__(self) -> Any:
        return self.page

    def __exit__(self, *exc: object) -> None:
        self.page.close()


def url(site: Path, name: str) -> str:
    return (site / name).as_uri()


BACKGROUND = """
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && !bg.endsWith(', 0)') && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
"""
"""JavaScript: the colour a text really stands on (the first ancestor with an opaque one)."""

MEASURE = (
    """
() => {
  const visible = (el) => el.getClientRects().length > 0;
"""
    + BACKGROUND
    + """
  const texts = [];
  const cards = [...document.querySelectorAll('.pv-card')].filter((a) => !a.hidden);
  const roots = [document.querySelector('.pv-bar'), ...cards];
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (!visible(el)) continue;
      const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own.length) continue;
      const style = getComputedStyle(el);
      texts.push({
        text: own.map((n) => n.textContent.trim()).join(' ').slice(0, 40),
        size: parseFloat(style.fontSize),
        color: style.color,
        background: background(el),
        code: !!el.closest('pre.gd-code'),
      });
    }
  }
  const blocks = [];
  for (const card of cards) {
    for (const pre of card.querySelectorAll('pre.gd-code')) {
      const r = pre.getBoundingClientRect();
      const colors = new Set([...pre.querySelectorAll('span[class^="gd-"]')]
        .map((s) => getComputedStyle(s).color));
      blocks.push({
        lang: pre.dataset.lang, left: r.left, right: r.right,
        overflow: getComputedStyle(pre).overflowX,
        scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth, colors: colors.size,
      });
    }
  }
  const se = document.scrollingElement;
  return {scrollWidth: se.scrollWidth, clientWidth: se.clientWidth, cards: cards.length,
          kinds: [...new Set(cards.map((c) => c.dataset.kind))], texts, blocks};
}
"""
)

HIGHLIGHTED = {
    "python",
    "go",
    "sql",
    "dockerfile",
    "yaml",
    "javascript",
    "jsx",
    "bash",
    "hcl",
    "js",
}


def rgb(css: str) -> str:
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


@pytest.mark.parametrize("mode", ["light", "night"])
@pytest.mark.parametrize("kind", KINDS)
def test_cards_at_phone_width(browser: Any, site: Path, kind: str, mode: str) -> None:
    tab = Page(browser, url(site, SAMPLE_PAGE))
    with tab as page:
        if mode == "night":
            page.click("#pv-night")
        page.select_option("#pv-filter", kind)
        page.locator(".pv-card:not([hidden])").first.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"preview-{kind}-{mode}.png"))
        m = page.evaluate(MEASURE)
    assert m["kinds"] == [kind] and m["cards"] > 0
    # the page never scrolls sideways
    assert m["scrollWidth"] <= m["clientWidth"] == VIEWPORT["width"]
    # text at least 16 px; contrast 4.5:1 for text, 3:1 for code tokens, on the real background
    assert m["texts"]
    for t in m["texts"]:
        assert t["size"] >= 16, t
        ratio = contrast(rgb(t["color"]), rgb(t["background"]))
        assert ratio >= (3.0 if t["code"] else 4.5), (t, round(ratio, 2))
    # every code block scrolls inside itself, and code is highlighted
    for block in m["blocks"]:
        assert block["overflow"] in ("auto", "scroll"), block
        assert block["left"] >= 0 and block["right"] <= VIEWPORT["width"], block
        if block["lang"] in HIGHLIGHTED:
            assert block["colors"] >= 2, block
    if kind in ("scenario", "contrast"):
        assert any(b["scrollWidth"] > b["clientWidth"] for b in m["blocks"])
        assert any(b["lang"] in HIGHLIGHTED and b["colors"] >= 3 for b in m["blocks"])
    assert tab.requests == [url(site, SAMPLE_PAGE)]  # nothing from the network


def test_a_long_code_block_scrolls_sideways_by_itself(browser: Any, site: Path) -> None:
    with Page(browser, url(site, SAMPLE_PAGE)) as page:
        page.select_option("#pv-filter", "scenario")
        wide = page.locator("pre.gd-code").filter(has_text="OOMKilled").first
        wide.scroll_into_view_if_needed()
        wide.evaluate("pre => { pre.scrollLeft = 200; }")
        assert wide.evaluate("pre => pre.scrollLeft") > 0
        assert page.evaluate("document.scrollingElement.scrollLeft") == 0


def test_night_toggle(browser: Any, site: Path) -> None:
    with Page(browser, url(site, SAMPLE_PAGE)) as page:
        card_bg = "getComputedStyle(document.querySelector('.card')).backgroundColor"
        light = rgb(page.evaluate(card_bg))
        page.click("#pv-night")
        assert page.get_attribute("#pv-night", "aria-pressed") == "true"
        classes = page.eval_on_selector_all(".card", "cards => cards.map(c => c.className)")
        assert classes and all("nightMode" in c and "night_mode" in c for c in classes)
        dark = rgb(page.evaluate(card_bg))
        assert contrast(dark, "#000000") < 1.5 < contrast(light, "#000000")
        page.click("#pv-night")
        assert rgb(page.evaluate(card_bg)) == light
        assert page.eval_on_selector_all(".card.nightMode", "cards => cards.length") == 0


def visible_kinds(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        ".pv-card:not([hidden])", "cards => cards.map(c => c.dataset.kind)"
    )


def test_kind_filter(browser: Any, site: Path) -> None:
    with Page(browser, url(site, SAMPLE_PAGE)) as page:
        assert len(visible_kinds(page)) == 26
        page.select_option("#pv-filter", "quiz")
        assert visible_kinds(page) == ["quiz"] * 4
        assert page.text_content("#pv-count") == "4 of 26"
        assert page.input_value("#pv-filter") == "quiz"
        page.select_option("#pv-filter", "fact")
        assert visible_kinds(page) == ["fact"] * 12
        page.select_option("#pv-filter", "")
        assert len(visible_kinds(page)) == 26


def test_search(browser: Any, site: Path) -> None:
    with Page(browser, url(site, SAMPLE_PAGE)) as page:
        texts = page.eval_on_selector_all(
            ".pv-card", "cards => cards.map(c => [c.dataset.kind, c.textContent.toLowerCase()])"
        )
        term = "sigterm"
        matching = [kind for kind, text in texts if term in text]
        assert 0 < len(matching) < 26 and "quiz" in matching
        page.fill("#pv-search", "SIGTERM")  # case does not matter
        assert visible_kinds(page) == matching
        assert page.text_content("#pv-count") == f"{len(matching)} of 26"
        page.select_option("#pv-filter", "quiz")
        assert visible_kinds(page) == [k for k in matching if k == "quiz"]  # both apply
        page.fill("#pv-search", "no card says this")
        assert visible_kinds(page) == []
        assert page.text_content("#pv-count") == "0 of 26"
        page.fill("#pv-search", "")
        page.select_option("#pv-filter", "")
        assert len(visible_kinds(page)) == 26


def test_index_links_every_deck(browser: Any, site: Path) -> None:
    with Page(browser, url(site, "index.html")) as page:
        links = page.eval_on_selector_all(".pv-decks a", "links => links.map(a => a.textContent)")
        assert len(links) == 3
        assert page.evaluate("document.scrollingElement.scrollWidth") <= VIEWPORT["width"]
        page.click(f'a[href="{SAMPLE_PAGE}"]')
        # the cards' own scripts run while the page is parsed: count once it has loaded
        page.wait_for_load_state("load")
        assert page.url == url(site, SAMPLE_PAGE)
        assert len(visible_kinds(page)) == 26
        page.screenshot(path=str(ARTIFACTS / "preview-deck-top.png"))


def test_hostile_html_never_reaches_the_preview(browser: Any, tmp_path: Path) -> None:
    (guide,) = copy_guides(tmp_path / "guides", FIXTURES / "decks" / "hostile.md")
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["preview", str(guide), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (page_name,) = [name for name in out_names(out) if name != "index.html"]
    tab = Page(browser, url(out, page_name))
    with tab as page:
        page.click("#pv-night")  # exercise the page: nothing hostile may run meanwhile
        page.fill("#pv-search", "a")
        found = page.evaluate(
            """() => ({
              scripts: document.scripts.length,
              quizSides: document.querySelectorAll('.gd-quiz').length,
              dangerous: document.querySelectorAll('iframe, svg, object, embed, img, form, math, '
                + 'input:not(#pv-search), style:not(head style)').length,
              handlers: [...document.querySelectorAll('*')].flatMap(
                el => [...el.attributes].map(a => a.name)).filter(n => n.startsWith('on')).length,
              badLinks: [...document.querySelectorAll('[href], [src], [action]')].filter(
                el => /^\\s*(javascript|data|vbscript):/i.test(
                  el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action'))
              ).length,
              cards: document.querySelectorAll('.pv-card').length,
            })"""
        )
    # the page's own script, and the quiz template's on each quiz side: none from the guide
    sides = found.pop("quizSides")
    assert found == {"scripts": 1 + sides, "dangerous": 0, "handlers": 0, "badLinks": 0, "cards": 8}
    assert tab.dialogs == []
    assert tab.requests == [url(out, page_name)]


def test_preview_command_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (guide,) = copy_guides(tmp_path / "guides", FIXTURES / "parse" / "tables.md")
    opened: list[str] = []
    monkeypatch.setattr("click.launch", lambda target, *a, **k: opened.append(target) or 0)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["preview", str(guide), "--open"])
    assert result.exit_code == 0, result.output
    index = Path("build/preview/index.html")
    assert index.is_file() and opened == [str(index)]
    taken = tmp_path / "taken"
    taken.write_text("x")
    result = CliRunner().invoke(main, ["preview", str(guide), "--out", str(taken)])
    assert result.exit_code == 1 and "output path is a file" in result.output
    result = CliRunner().invoke(main, ["preview", str(tmp_path / "missing.md")])
    assert result.exit_code == 1 and "no such file or folder" in result.output
    assert "Traceback" not in result.output


def test_preview_shows_the_id_the_note_really_has(tmp_path: Path) -> None:
    """A card whose key changed (a typo fixed in its question) keeps its note's ``ID``: the
    preview shows that one, as Anki holds it, not the card's new key (issue #22)."""
    import html

    from tests.anki_engine import fresh_collection, import_package
    from tests.test_push import QUIZ_AFTER, QUIZ_BEFORE

    (guide,) = copy_guides(tmp_path / "guides", FIXTURES / "updates" / "v1.md")
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(guide), "--out", str(out)]).exit_code == 0
    guide.write_text(guide.read_text("utf-8").replace(QUIZ_BEFORE, QUIZ_AFTER), "utf-8")
    site = tmp_path / "site"
    args = ["preview", str(guide), "--out", str(site), "--decks", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    page = "\n".join(p.read_text("utf-8") for p in site.glob("*.html") if p.name != "index.html")
    assert CliRunner().invoke(main, ["build", str(guide), "--out", str(out)]).exit_code == 0
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, out / "v1.apkg")
        ids = [col.get_note(n)["ID"] for n in col.find_notes('"note:guidedeck*"')]
    finally:
        col.close()
    (quiz_id,) = [i for i in ids if "whcih" in i]  # born before the typo was fixed
    assert html.escape(quiz_id) in page
    assert "which-protocol-guarantees" not in page  # the new key is not its ID
    assert all(html.escape(i) in page for i in ids if "/quiz/" in i)  # quizzes carry their ID


STYLES = """
([detail, only]) => {
  const skip = new Set(['width', 'height', 'inline-size', 'block-size', 'perspective-origin',
                        'transform-origin']);  // sizes follow the frame's width, checked apart
  const digest = (text) => {  // FNV-1a: the pages are compared by digest, in detail on a mismatch
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h >>> 0;
  };
  const cards = [...document.querySelectorAll('.card')];
  return (only === null ? cards : [cards[only]]).map((card) =>
    [...card.querySelectorAll('*')]
      .filter((el) => el.nodeName !== 'SCRIPT' && el.id !== 'content')
      .map((el) => {
        const style = getComputedStyle(el);
        const names = [...style].filter((name) => !skip.has(name)
          // a custom property never set computes to the empty (guaranteed-invalid) value
          && !(name.startsWith('--') && style.getPropertyValue(name) === '')).sort();
        const values = names.map((name) => [name, style.getPropertyValue(name)]);
        return [el.nodeName + '.' + el.className,
                detail ? Object.fromEntries(values) : digest(JSON.stringify(values))];
      }));
}
"""
"""JavaScript: every computed style of every element inside each card, in document order (a
digest per element, or with ``detail`` the styles themselves; of the ``only``-th card alone
when given)."""


def _differences(here: list[Any], there: list[Any]) -> list[str]:
    """Where two cards' elements compute different styles (given in detail)."""
    out = [f"{len(here)} elements != {len(there)}"] if len(here) != len(there) else []
    for (name, mine), (_, theirs) in zip(here, there, strict=False):
        for k in sorted(set(mine) | set(theirs)):
            if mine.get(k) != theirs.get(k):
                out.append(f"{name} {k}: {mine.get(k)!r} != {theirs.get(k)!r}")
    return out


@pytest.mark.parametrize("mode", ["light", "night"])
def test_the_preview_styles_no_element_of_a_card(
    browser: Any, site: Path, mode: str, tmp_path: Path
) -> None:
    """Each card in the preview computes, element by element, the styles the same card has
    in Anki's page shell (AnkiDroid's: the card's HTML in a body of class ``card``), at the
    same width: the preview's own style names only its own chrome."""
    from tests.test_quiz_tap import ANKIDROID, Server

    page = Page(browser, url(site, SAMPLE_PAGE))
    with page as tab:
        if mode == "night":
            tab.click("#pv-night")
        inner = tab.eval_on_selector(".pv-phone > .card", "c => c.getBoundingClientRect().width")
        css = tab.eval_on_selector("head style", "s => s.textContent")
        # each side as the page holds it before any script ran
        sides = tab.evaluate(
            """(text) => [...new DOMParser().parseFromString(text, 'text/html')
                .querySelectorAll('.pv-card')].map((a) => [a.dataset.kind,
                  a.querySelector('.pv-front .card').innerHTML,
                  a.querySelector('.pv-back .card').innerHTML])""",
            (site / SAMPLE_PAGE).read_text(encoding="utf-8"),
        )
        previewed = tab.evaluate(STYLES, [False, None])
        assert len(previewed) == 2 * len(sides) == 52
        card_css = css[css.index("/* guidedeck card style") :]
        shell = browser.new_page(viewport={"width": round(inner), "height": VIEWPORT["height"]})
        server = Server(tmp_path)
        try:
            problems: dict[str, list[str]] = {}
            for n, (kind, front, back) in enumerate(sides):
                for side, markup in (("front", front), ("back", back)):
                    night = "night_mode" if mode == "night" else ""
                    shell.goto(server.put(f"{n}-{side}.html", ANKIDROID.format(
                        css=card_css, side=markup, night=night)))  # fmt: skip
                    position = 2 * n + (side == "back")
                    if shell.evaluate(STYLES, [False, None])[0] != previewed[position]:
                        (here,) = tab.evaluate(STYLES, [True, position])
                        (there,) = shell.evaluate(STYLES, [True, None])
                        problems[f"{kind} {n} {side}"] = _differences(here, there)[:5]
            assert problems == {}
        finally:
            shell.close()
            server.close()


def test_a_tap_on_a_quiz_in_the_preview_shows_its_back(browser: Any, site: Path) -> None:
    with Page(browser, url(site, SAMPLE_PAGE)) as page:
        page.select_option("#pv-filter", "quiz")
        first, second = page.locator(".pv-card:not([hidden])").all()[:2]
        answer = first.locator(".pv-back .gd-option-label, .pv-back .gd-answer-letter").first
        assert answer.count() == 1
        back_before = second.locator(".pv-back").inner_html()
        first.locator('.pv-front .gd-option[data-option="A"]').click()
        back = first.locator(".pv-back")
        back.locator(".gd-verdict").wait_for()
        chosen = back.locator(".gd-option[data-chosen]")
        correct = back.locator(".gd-option[data-correct]")
        assert chosen.count() == 1 and correct.count() == 1
        assert chosen.get_attribute("data-option") == "A"
        assert back.locator(".gd-verdict").inner_text().startswith(("✓", "✗"))
        assert second.locator(".pv-back").inner_html() == back_before  # only the tapped card
        # the back is brought into view below the sticky bar
        top = back.evaluate("el => el.getBoundingClientRect().top")
        bar = page.eval_on_selector(".pv-bar", "el => el.getBoundingClientRect().bottom")
        assert bar <= top < VIEWPORT["height"]
        page.screenshot(path=str(ARTIFACTS / "preview-quiz-tapped.png"))


def test_the_toolbar_is_small_and_its_controls_easy_to_tap(browser: Any, site: Path) -> None:
    for name in (SAMPLE_PAGE, "index.html"):
        with Page(browser, url(site, name)) as page:
            bar = page.eval_on_selector(".pv-bar", "el => el.getBoundingClientRect().height")
            assert bar <= 0.15 * VIEWPORT["height"], (name, bar)
            targets = page.eval_on_selector_all(
                ".pv-bar a, .pv-bar button, .pv-bar select, .pv-bar input",
                "els => els.map((el) => [el.id || el.textContent, el.getBoundingClientRect().width,"
                " el.getBoundingClientRect().height])",
            )
            assert name == "index.html" or len(targets) == 4
            for target, width, height in targets:
                assert width >= 44 and height >= 44, (name, target, width, height)
