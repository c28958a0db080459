"""guidedeck's cards in the real Anki desktop reviewer (aqt with Qt WebEngine), headless.

Not collected by the main run: ``tests/test_desktop_reviewer.py`` runs this module in a child
pytest (with the pytest-anki2 plugin and ``tests/desktop/pytest.ini``), because Qt may crash the
process while it tears down after every test has passed; the parent judges each case by the
child's report (``tests/desktop/child.py``). ``CASES`` names every case, so the parent knows
what must have run.

Each card is shown by Anki's own reviewer (``mw.reviewer``) in the main window's web view, the
page Anki builds for it, with Anki's own shortcuts active; clicks and keys are real Qt input
events sent to that view. Screenshots land in ``test-artifacts/desktop-*.png``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guidedeck.cards import KINDS
from guidedeck.highlight import contrast

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
NOTETYPES = {spec.notetype.name.split()[-1].lower(): spec.notetype.name for spec in KINDS.values()}
MODES = ["light", "night"]
NEW_SIDE = "#qa .gd:not([data-seen])"
"""A card side on the reviewer's page that was not there when the test last looked."""
KEYS = ["Enter", "Space"]

CASES = (
    [f"test_each_notetype_in_the_reviewer[{k}-{m}]" for k in NOTETYPES for m in MODES]
    + [f"test_a_click_on_an_option_marks_the_back[{m}]" for m in MODES]
    + [f"test_tab_then_the_show_answer_key_answers_with_that_option[{k}]" for k in KEYS]
    + ["test_no_choice_reaches_the_next_card_or_the_next_review",
       "test_a_shuffled_quiz_keeps_its_order_on_the_back"]
)  # fmt: skip
"""Every case this module runs, as its report names it."""


def _build(tmp: Path) -> dict[str, Path]:
    """The sample guide (every kind), the quick-check fixture alone, and it shuffled."""
    from click.testing import CliRunner

    from guidedeck.cli import main
    from tests.conftest import FIXTURES
    from tests.test_decks import build_one

    sample = build_one(ROOT / "deck_source" / "backend-basics.md", tmp / "sample")
    quizzes = build_one(FIXTURES / "parse" / "quick_check.md", tmp / "quizzes")
    folder = tmp / "shuffled-guides"
    folder.mkdir()
    # a guide of its own name: its notes are others than the plain quizzes' ones
    text = (FIXTURES / "parse" / "quick_check.md").read_text(encoding="utf-8")
    (folder / "shuffled_quiz.md").write_text(text, encoding="utf-8")
    (folder / "decks.yaml").write_text(
        "defaults:\n  quiz: {shuffle: true}\npackages:\n"
        "  - guides: [shuffled_quiz.md]\n    deck: Shuffled\n"
    )
    result = CliRunner().invoke(main, ["build", str(folder), "--out", str(tmp / "shuffled")])
    assert result.exit_code == 0, result.output
    (shuffled,) = (tmp / "shuffled").glob("*.apkg")
    return {"sample": sample, "quizzes": quizzes, "shuffled": shuffled}


class Desk:
    """Anki desktop with guidedeck's decks imported, and its reviewer within reach."""

    def __init__(self, session: Any, packages: dict[str, Path]) -> None:
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        self.session = session
        self.mw = session.mw
        self.col = self.mw.col
        self.decks: dict[str, int] = {}
        for name, apkg in packages.items():
            before = {d.id for d in self.col.decks.all_names_and_ids()}
            request = ImportAnkiPackageRequest(
                package_path=str(apkg), options=ImportAnkiPackageOptions(with_scheduling=False)
            )
            self.col.import_anki_package(request)
            added = [d for d in self.col.decks.all_names_and_ids() if d.id not in before]
            self.decks[name] = max(added, key=lambda d: d.name.count("::")).id
        self.errors: list[str] = []
        self.mw.fullscreen = False
        self.mw.resize(480, 900)  # about a phone's width: the screenshots show what phones see

    # --- the page -------------------------------------------------------------------------
    def js(self, code: str) -> Any:
        """The value of ``code`` evaluated in the reviewer's page."""
        out: dict[str, Any] = {}
        self.mw.web.evalWithCallback(code, lambda value: out.__setitem__("value", value))
        self.session.qtbot.waitUntil(lambda: "value" in out, timeout=5000)
        return out["value"]

    def wait_for(self, code: str, timeout: float = 8.0, strict: bool = True) -> Any:
        """Wait until ``code`` is truthy in the page; return its value (or, not ``strict``,
        ``None`` after ``timeout``)."""
        end = time.monotonic() + timeout
        while True:
            value = self.js(code)
            if value:
                return value
            if time.monotonic() > end:
                if not strict:
                    return None
                raise AssertionError(f"never true in Anki's reviewer: {code}")
            self.session.qtbot.wait(50)

    def loaded(self) -> None:
        """Wait until the main web view's page has loaded and run what Anki queued for it."""
        web = self.mw.web
        done = lambda: web._domDone and not web._pendingActions  # noqa: E731
        self.session.qtbot.waitUntil(done, timeout=10000)
        self.wait_for("document.readyState === 'complete'")
        self.settle(100)

    def settle(self, ms: int = 300) -> None:
        self.session.qtbot.wait(ms)

    # --- the reviewer ---------------------------------------------------------------------
    def review(self, deck: str, night: bool) -> None:
        """Anki's review screen on ``deck`` (its scheduler's next card shown), in light or
        night mode. The page is loaded again only when the theme changes, as in Anki."""
        from aqt.theme import theme_manager

        self._mark_shown()
        self.col.decks.select(self.decks[deck])
        if self.mw.state == "review" and theme_manager.night_mode == night:
            self.mw.reviewer.nextCard()
        else:
            theme_manager.night_mode = night
            self.mw.moveToState("deckBrowser")
            self.loaded()  # as a person would: one screen is there before the next is asked for
            self.mw.moveToState("review")
            self.loaded()
        if not self.wait_for(f"!!document.querySelector({json.dumps(NEW_SIDE)})", strict=False):
            # Anki can run its queued call to show the card before the page that has to show
            # it has loaded (a page switch on a starved CPU): ask once more, as a person would
            self.mw.reviewer._showQuestion()
            self.wait_for(f"!!document.querySelector({json.dumps(NEW_SIDE)})")
        self.settle(200)

    def show(self, card_id: int) -> dict[str, str]:
        """Anki's reviewer shows the front of card ``card_id``; its note's fields."""
        reviewer = self.mw.reviewer
        self._mark_shown()
        reviewer.card = self.col.get_card(card_id)
        reviewer.card.start_timer()
        reviewer._showQuestion()
        return self._shown()

    def _shown(self) -> dict[str, str]:
        """The note of the card the reviewer shows, once its front is on the page."""
        side = self.wait_for(
            f"(() => {{ const c = document.querySelector({json.dumps(NEW_SIDE)});"
            " return c && [c.classList.contains('gd-back'), c.dataset.note || null]; })()"
        )
        self.settle(200)
        fields = dict(self.mw.reviewer.card.note().items())
        assert side[0] is False, "a front"
        assert side[1] in (None, fields["ID"]), (side, fields["ID"])
        return fields

    def _mark_shown(self) -> None:
        """Mark the side on the page now, so that the next one is told apart from it."""
        self.js("document.querySelectorAll('#qa .gd').forEach((c) => { c.dataset.seen = '1'; })")

    def flip(self) -> None:
        """Anki's own Show Answer."""
        self._mark_shown()
        self.mw.reviewer._showAnswer()
        self.wait_for(f"!!document.querySelector({json.dumps(NEW_SIDE + '.gd-back')})")
        self.settle(200)

    def flipped(self) -> None:
        """Wait until the page asked Anki for the back, and Anki shows it."""
        end = time.monotonic() + 5
        while self.mw.reviewer.state != "answer":
            assert time.monotonic() < end, "the card never asked Anki for its back"
            self.settle(50)
        self.wait_for("!!document.querySelector('#qa .gd-back:not([data-seen])')")
        self.settle(200)

    # --- input ----------------------------------------------------------------------------
    def click(self, selector: str) -> None:
        """A real left click at the middle of the first element ``selector`` matches."""
        from aqt.qt import QPoint, Qt
        from PyQt6.QtTest import QTest

        x, y = self.js(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            " el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        self.settle(100)
        self._mark_shown()  # the click may bring the back: it is told apart from this side
        zoom = self.mw.web.zoomFactor()
        target = self.mw.web.focusProxy() or self.mw.web
        QTest.mouseClick(
            target,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            QPoint(round(x * zoom), round(y * zoom)),
        )

    def key(self, name: str) -> None:
        """A real key press on the reviewer's web view (where Anki's shortcuts live too)."""
        from aqt.qt import Qt
        from PyQt6.QtTest import QTest

        keys = {"Tab": Qt.Key.Key_Tab, "Enter": Qt.Key.Key_Return, "Space": Qt.Key.Key_Space}
        self.mw.web.setFocus()
        self._mark_shown()
        QTest.keyClick(self.mw.web.focusProxy() or self.mw.web, keys[name])
        self.settle(150)

    def options(self) -> list[dict[str, Any]]:
        return self.js(
            "[...document.querySelectorAll('#qa .gd-option')].map((el) => ({"
            " key: el.dataset.key, shown: el.dataset.option,"
            " pressed: el.getAttribute('aria-pressed'), chosen: el.hasAttribute('data-chosen'),"
            " correct: el.hasAttribute('data-correct')}))"
        )

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.mw.web.grab().save(str(ARTIFACTS / f"desktop-{name}.png"))

    def cards(self, deck: str, notetype: str) -> list[int]:
        deck_name = self.col.decks.name(self.decks[deck])
        query = f'"deck:{deck_name}" "note:{notetype}"'
        return sorted(self.col.find_cards(query), key=lambda c: self.col.get_card(c).due)


@pytest.fixture(scope="module")
def desk(request: pytest.FixtureRequest, qapp: Any, tmp_path_factory: Any) -> Iterator[Desk]:
    from pytest_anki._plugin.launch import anki_running
    from pytestqt.qtbot import QtBot

    packages = _build(tmp_path_factory.mktemp("decks"))
    with anki_running(qtbot=QtBot(request), load_profile=True) as session:
        yield Desk(session, packages)


def _anki_page_helpers() -> str:
    """The text of the scripts Anki's own reviewer page loads."""
    import _aqt

    folder = Path(next(iter(_aqt.__path__))) / "data" / "web" / "js"
    text = "\n".join(p.read_text(encoding="utf-8") for p in folder.glob("*.js"))
    assert "_showQuestion" in text, f"Anki's page scripts not found in {folder}"
    return text


FADE = "Uncaught TypeError: Cannot read properties of null (reading 'style')"
"""Anki's own ``fade_in_webview``/``fade_out_webview`` (aqt/main.py) run
``document.body.style.opacity = ...`` in the reviewer's page when it refreshes the reviewer
after a change; on a page still loading (a theme switch) there is no body yet (seen in CI)."""


def _cards_touch_style() -> bool:
    """Whether any card template of guidedeck sets an element's style from a script."""
    folder = ROOT / "templates"
    return any(
        ".style" in path.read_text(encoding="utf-8")
        for path in folder.rglob("*")
        if path.is_file() and path.suffix in (".html", ".js") and "preview" not in path.parts
    )


def _anki_not_ready(message: str, helpers: str) -> bool:
    """Whether ``message`` comes from Anki's own page code running before its page is ready.

    While Anki switches screens on a starved CPU, it can run a queued call of its own (such as
    ``_blockDefaultDragDropBehavior()``) before the new page has loaded its scripts, or fade a
    page that has no body yet (:data:`FADE`). That is Anki's page, not a card: no card of
    guidedeck calls these helpers or touches an element's style (checked, not assumed)."""
    if message == FADE:
        return not _cards_touch_style()
    match = re.fullmatch(r"Uncaught ReferenceError: (_\w+) is not defined", message)
    return bool(match) and re.search(rf"\b{match.group(1)}\b", helpers) is not None


@pytest.fixture(autouse=True)
def no_page_errors(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every console error on the reviewer's page fails the case that caused it."""
    import aqt.webview

    original = aqt.webview.AnkiWebPage.javaScriptConsoleMessage
    helpers = _anki_page_helpers()

    def record(page: Any, level: Any, message: str, line: int, source: str) -> None:
        mine = page is desk.mw.web.page() and "Error" in str(level)
        if mine and not _anki_not_ready(message, helpers):
            desk.errors.append(f"{source}:{line}: {message}")
        original(page, level, message, line, source)

    monkeypatch.setattr(aqt.webview.AnkiWebPage, "javaScriptConsoleMessage", record)
    desk.errors.clear()
    yield
    assert desk.errors == [], "JavaScript errors on Anki's reviewer page"


PAGE = """
(() => {
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && !bg.endsWith(', 0)') && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const card = document.querySelector('#qa .gd');
  const texts = [];
  for (const el of card.querySelectorAll('*')) {
    if (!el.getClientRects().length || el.closest('pre.gd-code, script')) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own.length) continue;
    const style = getComputedStyle(el);
    texts.push({text: own[0].textContent.trim().slice(0, 30), color: style.color,
                background: background(el), size: parseFloat(style.fontSize)});
  }
  return {body: document.body.className, kind: card.className,
          background: getComputedStyle(document.body).backgroundColor,
          text: card.innerText, texts,
          scrollWidth: document.scrollingElement.scrollWidth,
          clientWidth: document.scrollingElement.clientWidth};
})()
"""


def _rgb(css: str) -> str:
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _readable(desk: Desk, kind: str, night: bool) -> dict[str, Any]:
    page = desk.js(PAGE)
    assert f"gd-{kind}" in page["kind"].split(), page["kind"]
    assert ("nightMode" in page["body"].split()) == night, page["body"]
    dark = contrast(_rgb(page["background"]), "#000000") < 2
    assert dark == night, (page["background"], night)
    assert "template has a problem" not in page["text"].lower()
    assert page["scrollWidth"] <= page["clientWidth"], "the page scrolls sideways"
    assert page["texts"]
    for text in page["texts"]:
        assert text["size"] >= 16, text
        assert contrast(_rgb(text["color"]), _rgb(text["background"])) >= 4.5, text
    return page


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", list(NOTETYPES))
def test_each_notetype_in_the_reviewer(desk: Desk, kind: str, mode: str) -> None:
    desk.review("sample", night=mode == "night")
    card = desk.cards("sample", NOTETYPES[kind])[0]
    desk.show(card)
    front = _readable(desk, kind, mode == "night")
    desk.shot(f"{kind}-{mode}-front")
    desk.flip()
    back = _readable(desk, kind, mode == "night")
    desk.shot(f"{kind}-{mode}-back")
    assert len(back["text"]) > len(front["text"]) * 0.5


def _verdict(desk: Desk) -> str:
    return str(desk.js("(document.querySelector('#qa .gd-verdict') || {}).innerText || ''"))


@pytest.mark.parametrize("mode", MODES)
def test_a_click_on_an_option_marks_the_back(desk: Desk, mode: str) -> None:
    desk.review("sample", night=mode == "night")
    first, second = desk.cards("sample", NOTETYPES["quiz"])[:2]
    fields = desk.show(first)
    wrong = next(k for k in "ABCD" if k != fields["Answer"])
    desk.click(f'#qa .gd-option[data-key="{wrong}"]')
    desk.flipped()
    marks = {o["key"]: o for o in desk.options()}
    assert marks[wrong]["chosen"] and not marks[wrong]["correct"]
    assert marks[fields["Answer"]]["correct"] and not marks[fields["Answer"]]["chosen"]
    assert _verdict(desk).startswith("✗ You chose")
    desk.shot(f"quiz-{mode}-clicked-wrong")
    fields = desk.show(second)
    desk.click(f'#qa .gd-option[data-key="{fields["Answer"]}"]')
    desk.flipped()
    marks = {o["key"]: o for o in desk.options()}
    assert marks[fields["Answer"]]["chosen"] and marks[fields["Answer"]]["correct"]
    assert _verdict(desk).startswith("✓ You chose")
    desk.shot(f"quiz-{mode}-clicked-right")


@pytest.mark.parametrize("key", KEYS)
def test_tab_then_the_show_answer_key_answers_with_that_option(desk: Desk, key: str) -> None:
    desk.review("quizzes", night=False)
    card = desk.cards("quizzes", NOTETYPES["quiz"])[0]
    desk.show(card)
    desk.key("Tab")
    desk.key("Tab")
    assert desk.js("document.activeElement.dataset.option") == "B"
    desk.key(key)  # Anki's own Show Answer key: the page never sees it
    desk.flipped()
    assert [o["shown"] for o in desk.options() if o["chosen"]] == ["B"]


def test_no_choice_reaches_the_next_card_or_the_next_review(desk: Desk) -> None:
    desk.review("quizzes", night=False)  # Anki's scheduler picks the cards from here on
    fields = desk._shown()
    desk.click(f'#qa .gd-option[data-key="{fields["Answer"]}"]')
    desk.flipped()
    assert any(o["chosen"] for o in desk.options())
    first = desk.mw.reviewer.card.id
    desk._mark_shown()
    desk.mw.reviewer._answerCard(3)  # Good: Anki shows the next card
    following = desk._shown()
    assert desk.mw.reviewer.card.id != first and following["ID"] != fields["ID"]
    assert all(o["pressed"] == "false" for o in desk.options())
    desk.flip()
    assert not any(o["chosen"] for o in desk.options())
    assert _verdict(desk) == ""
    # and the first card's next review starts clean too
    desk.show(first)
    assert all(o["pressed"] == "false" for o in desk.options())
    desk.flip()
    assert not any(o["chosen"] for o in desk.options())


def test_a_shuffled_quiz_keeps_its_order_on_the_back(desk: Desk) -> None:
    desk.review("shuffled", night=False)
    orders = set()
    for card in desk.cards("shuffled", NOTETYPES["quiz"]) * 2:
        desk.show(card)
        front = desk.options()
        assert [o["shown"] for o in front] == list("ABCDEFGH"[: len(front)])
        desk.click(f'#qa .gd-option[data-key="{front[0]["key"]}"]')
        desk.flipped()
        back = desk.options()
        assert [o["key"] for o in back] == [o["key"] for o in front]
        assert next(o for o in back if o["chosen"])["shown"] == "A"
        orders.add(tuple(o["key"] for o in front))
    assert len(orders) > 1, "the options were shuffled"
