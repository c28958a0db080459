"""Quiz cards answered with a tap, in headless Chromium, inside the page shells of Anki's clients.

The cards are the HTML the real Anki engine renders (``render_output()``) for a deck guidedeck
built. They are served from 127.0.0.1 (sessionStorage throws on ``about:blank``) and shown the way
each client shows them:

- Anki desktop keeps one page: the back replaces the front inside ``#qa``, and its scripts run;
- AnkiDroid loads the back as a new page in the same tab (only sessionStorage survives).

Screenshots of the front after a tap and of the back land in ``test-artifacts/``.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from guidedeck.highlight import contrast
from tests.anki_engine import fresh_collection, import_package
from tests.conftest import FIXTURES, ROOT
from tests.test_decks import build_one
from tests.test_preview import ARTIFACTS, BACKGROUND, VIEWPORT, rgb

LAYOUT = (
    """
() => {
"""
    + BACKGROUND
    + """
  const texts = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.getClientRects().length) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own.length || el.closest('pre.gd-code, script')) continue;
    const style = getComputedStyle(el);
    texts.push({text: own[0].textContent.trim().slice(0, 30), size: parseFloat(style.fontSize),
                color: style.color, background: background(el)});
  }
  const se = document.scrollingElement;
  return {scrollWidth: se.scrollWidth, clientWidth: se.clientWidth, texts};
}
"""
)


def assert_phone_layout(page: Any) -> None:
    """No sideways scroll at 390 px; text of at least 16 px at 4.5:1 on its real background."""
    m = page.evaluate(LAYOUT)
    assert m["scrollWidth"] <= m["clientWidth"] == VIEWPORT["width"]
    assert m["texts"]
    for t in m["texts"]:
        assert t["size"] >= 16, t
        assert contrast(rgb(t["color"]), rgb(t["background"])) >= 4.5, t


SHOW_QA = """function _showQA(markup) {
  var qa = document.getElementById("qa");
  qa.innerHTML = markup;
  Array.prototype.slice.call(qa.querySelectorAll("script")).forEach(function (old) {
    var s = document.createElement("script");
    s.text = old.text;
    old.parentNode.replaceChild(s, old);
  });
}"""
"""What Anki desktop's reviewer does to show a side: new HTML into #qa, then run its scripts."""

DESKTOP = """<!doctype html>
<html class="webkit chrome"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css}</style>
<script>
window.calls = [];
function pycmd(cmd) {{ window.calls.push(cmd); }}
// what Anki desktop's reviewer does: new HTML into #qa, then run its scripts
{show_qa}
</script></head>
<body class="card card1 {night}"><div id="qa"></div>
<script>_showQA({front});</script></body></html>
"""

ANKIDROID = """<!doctype html>
<html class="js"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css}</style>
<script>window.calls = []; function showAnswer() {{ window.calls.push("showAnswer"); }}</script>
</head>
<body class="card card1 {night}"><div id="content">{side}</div></body></html>
"""


class Server:
    """Pages served from 127.0.0.1, written into a folder as the test needs them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "favicon.ico").write_bytes(b"")  # the browser asks for it: no 404 in the console
        handler = partial(_Quiet, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, name: str, text: str) -> str:
        (self.root / name).write_text(text, encoding="utf-8")
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def quizzes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    """Quiz cards as Anki renders them, from a plain deck and from a shuffling one."""
    root = tmp_path_factory.mktemp("quizzes")
    out: dict[str, list[dict[str, str]]] = {}
    for name, shuffle in (("plain", False), ("shuffled", True)):
        folder = root / name
        folder.mkdir()
        guide = folder / "quick_check.md"
        guide.write_text((FIXTURES / "parse" / "quick_check.md").read_text(encoding="utf-8"))
        if shuffle:
            (folder / "decks.yaml").write_text(
                "defaults:\n  quiz: {shuffle: true}\npackages:\n  - guides: [quick_check.md]\n"
            )
        apkg = _build(folder, root / f"out-{name}")
        col = fresh_collection(root / f"anki-{name}")
        try:
            import_package(col, apkg)
            cards = []
            for cid in sorted(col.find_cards('"note:guidedeck Quiz"')):
                card = col.get_card(cid)
                rendered = card.render_output()
                cards.append({
                    "front": rendered.question_text, "back": rendered.answer_text,
                    "css": rendered.css, "answer": card.note()["Answer"],
                    "options": str(card.note()["Options"].count("<li")),
                })  # fmt: skip
            out[name] = cards
        finally:
            col.close()
    assert len(out["plain"]) >= 3
    return out


def _build(folder: Path, out: Path) -> Path:
    from click.testing import CliRunner

    from guidedeck.cli import main

    if (folder / "decks.yaml").exists():
        result = CliRunner().invoke(main, ["build", str(folder), "--out", str(out)])
        assert result.exit_code == 0, result.output
        return out / "quick_check.apkg"
    return build_one(folder / "quick_check.md", out)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    serving = Server(tmp_path)
    yield serving
    serving.close()


class Tab:
    """A phone-sized tab that records console errors."""

    def __init__(self, browser: Any, javascript: bool = True) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, java_script_enabled=javascript)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def options(self) -> list[dict[str, Any]]:
        return self.page.eval_on_selector_all(
            ".gd-option",
            """els => els.map(el => ({
                key: el.dataset.key, shown: el.dataset.option,
                letter: el.querySelector('.gd-letter').textContent,
                chosen: el.hasAttribute('data-chosen'), correct: el.hasAttribute('data-correct'),
                pressed: el.getAttribute('aria-pressed'), role: el.getAttribute('role'),
            }))""",
        )

    def close(self) -> None:
        self.context.close()

    def __enter__(self) -> Tab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wrong(card: dict[str, str]) -> str:
    """The letter (as in the guide) of an option that is not the answer."""
    return next(c for c in "ABCDEFGH" if c != card["answer"])


def _desktop(server: Server, card: dict[str, str], night: str = "") -> str:
    page = DESKTOP.format(css=card["css"], front=_js(card["front"]), night=night, show_qa=SHOW_QA)
    return server.put("desktop.html", page)


def _js(markup: str) -> str:
    import json

    return json.dumps(markup).replace("</", "<\\/")


def _droid(server: Server, name: str, side: str, css: str, night: str = "") -> str:
    return server.put(name, ANKIDROID.format(css=css, side=side, night=night))


@pytest.mark.parametrize("night", ["", "nightMode"], ids=["light", "night"])
def test_desktop_tap_a_wrong_option(
    browser: Any,
    server: Server,
    quizzes: dict[str, Any],
    night: str,
) -> None:
    card = quizzes["plain"][0]
    tab = Tab(browser)
    try:
        tab.page.goto(_desktop(server, card, night))
        wrong = _wrong(card)
        tab.page.click(f'.gd-option[data-key="{wrong}"]')
        tab.page.wait_for_function("window.calls.length > 0")
        assert tab.page.evaluate("window.calls") == ["ans"]
        pressed = {o["key"]: o["pressed"] for o in tab.options()}
        assert pressed[wrong] == "true" and list(pressed.values()).count("true") == 1
        tab.page.screenshot(
            path=str(ARTIFACTS / f"quiz-desktop-front-tapped-{night or 'light'}.png")
        )
        tab.page.evaluate(f"_showQA({_js(card['back'])})")
        marks = {o["key"]: o for o in tab.options()}
        assert marks[wrong]["chosen"] and not marks[wrong]["correct"]
        assert marks[card["answer"]]["correct"] and not marks[card["answer"]]["chosen"]
        verdict = tab.page.inner_text(".gd-verdict")
        assert verdict.startswith("✗ You chose") and f"the answer is {card['answer']}" in verdict
        assert f"Answer: {card['answer']}" in tab.page.inner_text(".gd-answer-label")
        tab.page.screenshot(path=str(ARTIFACTS / f"quiz-desktop-back-{night or 'light'}.png"))
        assert_phone_layout(tab.page)
        assert tab.errors == []
    finally:
        tab.close()


def test_tab_then_enter_answers_with_the_focused_option(
    browser: Any, server: Server, quizzes: dict[str, Any]
) -> None:
    """The keyboard path the README promises: Tab to an option, Enter answers with it."""
    card = quizzes["plain"][0]
    with Tab(browser) as tab:
        tab.page.goto(_desktop(server, card))
        tab.page.keyboard.press("Tab")
        tab.page.keyboard.press("Tab")
        assert tab.page.evaluate("document.activeElement.dataset.option") == "B"
        tab.page.keyboard.press("Enter")
        tab.page.wait_for_function("window.calls.length > 0")
        assert tab.page.evaluate("window.calls") == ["ans"]
        tab.page.evaluate(f"_showQA({_js(card['back'])})")
        assert [o["shown"] for o in tab.options() if o["chosen"]] == ["B"]
        assert tab.errors == []


def test_an_option_reached_with_tab_is_the_choice_when_the_client_takes_enter(
    browser: Any, server: Server, quizzes: dict[str, Any]
) -> None:
    """Anki desktop binds Enter and Space to its own Show Answer: the page never sees them.
    The option focused with Tab is then the choice its back marks."""
    card = quizzes["plain"][0]
    with Tab(browser) as tab:
        tab.page.goto(_desktop(server, card))
        for _ in range(3):
            tab.page.keyboard.press("Tab")
        pressed = [o["shown"] for o in tab.options() if o["pressed"] == "true"]
        assert pressed == ["C"]
        assert tab.page.evaluate("window.calls") == []  # focus alone shows nothing
        tab.page.evaluate(f"_showQA({_js(card['back'])})")  # the client's own Show Answer
        assert [o["shown"] for o in tab.options() if o["chosen"]] == ["C"]
        assert tab.errors == []


def test_no_letter_or_digit_key_is_taken(
    browser: Any, server: Server, quizzes: dict[str, Any]
) -> None:
    """Clients bind letters and digits to their own shortcuts first (in Anki desktop, B opens
    the Browser): the card takes none of them."""
    card = quizzes["plain"][0]
    with Tab(browser) as tab:
        tab.page.goto(_desktop(server, card))
        tab.page.evaluate(
            "window.defaults = []; document.addEventListener('keydown', "
            "(e) => window.defaults.push(e.defaultPrevented))"
        )
        for key in ["1", "2", "a", "b", "h", "8"]:
            tab.page.keyboard.press(key)
        tab.page.wait_for_timeout(300)
        assert tab.page.evaluate("window.calls") == []
        assert tab.page.evaluate("window.defaults") == [False] * 6
        assert all(o["pressed"] == "false" for o in tab.options())


CLIENTS = {
    # name: (what the client puts on its page, what a tap on an option must call)
    "anki-desktop": ("window.pycmd = (c) => window.calls.push('pycmd:' + c);", ["pycmd:ans"]),
    "ankiweb": (
        "window.study = {drawAnswer: () => window.calls.push('study.drawAnswer')};",
        ["study.drawAnswer"],
    ),
    "ankidroid-classic": (
        "window.AnkiDroidJS = {}; "
        "window.showAnswer = () => window.calls.push('signal:show_answer');",
        ["signal:show_answer"],
    ),
    "ankidroid-study-screen": (
        "globalThis.ankidroid = {}; "
        "window.showAnswer = () => window.calls.push('ankidroid://show-answer');",
        ["ankidroid://show-answer"],
    ),
    "ankimobile": (
        "window.anki = {}; window.sendMessage2 = (a, b) => window.calls.push(a + ':' + b);",
        ["ankitap:midCenter"],
    ),
    "no-flip": ("", []),
}
"""The documented way each client shows the answer, as cross-platform templates call it."""

CLIENT = """<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css}</style>
<script>window.calls = []; {client}</script></head>
<body class="card card1"><div id="qa">{front}</div>
<script>
{show_qa}
</script></body></html>
"""

TAPPABLE = """
() => [...document.querySelectorAll('.gd-option')].every((option) =>
  [option, ...option.querySelectorAll('*')].every((el) => {
    // AnkiMobile and AnkiDroid's study screen: a tap on an element (or inside one) that is a
    // link, a button, has onclick or the class "tappable" is the page's, not the screen's
    for (let node = el; node; node = node.parentElement) {
      if (node.nodeName === 'A' || node.nodeName === 'BUTTON' || node.onclick
          || node.classList.contains('tappable')) return true;
      if (node === option) return false;
    }
    return false;
  }))
"""


@pytest.mark.parametrize("client", list(CLIENTS))
def test_each_client_is_asked_to_show_the_answer_its_own_way(
    browser: Any, server: Server, quizzes: dict[str, Any], client: str
) -> None:
    card = quizzes["plain"][1]  # its question holds code: taps land inside it too
    setup, expected = CLIENTS[client]
    with Tab(browser) as tab:
        page = CLIENT.format(css=card["css"], client=setup, front=card["front"], show_qa=SHOW_QA)
        tab.page.goto(server.put(f"{client}.html", page))
        assert tab.page.evaluate(TAPPABLE)
        wrong = _wrong(card)
        tab.page.click(f'.gd-option[data-key="{wrong}"] .gd-option-text')
        tab.page.wait_for_timeout(400)
        assert tab.page.evaluate("window.calls") == expected
        # the front keeps the choice marked: where no flip happened, it is still there to see
        assert [o["key"] for o in tab.options() if o["pressed"] == "true"] == [wrong]
        # and the client's own Show Answer gives a back that marks it
        tab.page.evaluate(f"_showQA({_js(card['back'])})")
        marks = {o["key"]: o for o in tab.options()}
        assert marks[wrong]["chosen"] and marks[card["answer"]]["correct"]
        assert tab.errors == []


def test_ankidroid_back_is_a_new_page_and_keeps_the_choice(
    browser: Any,
    server: Server,
    quizzes: dict[str, Any],
) -> None:
    card, other = quizzes["plain"][0], quizzes["plain"][1]
    tab = Tab(browser)
    try:
        tab.page.goto(_droid(server, "front.html", card["front"], card["css"]))
        right = card["answer"]
        tab.page.click(f'.gd-option[data-key="{right}"]')
        tab.page.wait_for_function("window.calls.length > 0")
        assert tab.page.evaluate("window.calls") == ["showAnswer"]
        tab.page.goto(_droid(server, "back.html", card["back"], card["css"]))  # same tab
        marks = {o["key"]: o for o in tab.options()}
        assert marks[right]["chosen"] and marks[right]["correct"]
        assert tab.page.inner_text(".gd-verdict").startswith("✓ You chose")
        tab.page.screenshot(path=str(ARTIFACTS / "quiz-ankidroid-back-right.png"))
        # another card's back shows no choice
        tab.page.goto(_droid(server, "other.html", other["back"], other["css"]))
        assert not any(o["chosen"] for o in tab.options())
        assert tab.page.query_selector(".gd-verdict") is None
        # and this card's next review starts clean: a fresh front, then its back
        tab.page.goto(_droid(server, "again.html", card["front"], card["css"]))
        tab.page.goto(_droid(server, "again-back.html", card["back"], card["css"]))
        assert not any(o["chosen"] for o in tab.options())
        assert tab.errors == []
    finally:
        tab.close()


def test_shuffled_order_is_the_same_on_both_sides(
    browser: Any,
    server: Server,
    quizzes: dict[str, Any],
) -> None:
    orders = set()
    for n, card in enumerate(quizzes["shuffled"]):
        assert 'data-shuffle="true"' in card["front"]
        for attempt in range(3):
            tab = Tab(browser)
            try:
                tab.page.goto(_droid(server, f"f{n}-{attempt}.html", card["front"], card["css"]))
                front = tab.options()
                assert [o["shown"] for o in front] == list("ABCDEFGH"[: len(front)])
                assert [o["letter"] for o in front] == [o["shown"] for o in front]
                first = front[0]["key"]
                tab.page.click(f'.gd-option[data-key="{first}"]')
                tab.page.wait_for_function("window.calls.length > 0")
                tab.page.goto(_droid(server, f"b{n}-{attempt}.html", card["back"], card["css"]))
                back = tab.options()
                assert [o["key"] for o in back] == [o["key"] for o in front], "same order"
                assert [o["shown"] for o in back] == [o["shown"] for o in front]
                correct = next(o for o in back if o["correct"])
                assert correct["key"] == card["answer"]
                assert tab.page.inner_text(".gd-answer-letter") == correct["shown"]
                assert next(o for o in back if o["chosen"])["shown"] == "A"
                orders.add(tuple(o["key"] for o in front))
                assert tab.errors == []
            finally:
                tab.close()
    assert len(orders) > 1, "the options were shuffled"


def test_without_javascript_the_card_is_the_static_one(
    browser: Any,
    server: Server,
    quizzes: dict[str, Any],
) -> None:
    card = quizzes["plain"][0]
    tab = Tab(browser, javascript=False)
    try:
        tab.page.goto(_droid(server, "front.html", card["front"], card["css"]))
        front = tab.options()
        assert all(o["role"] is None and o["pressed"] is None for o in front)
        assert [o["key"] for o in front] == [o["shown"] for o in front]  # the guide's order
        tab.page.goto(_droid(server, "back.html", card["back"], card["css"]))
        back = tab.options()
        assert not any(o["chosen"] or o["correct"] for o in back)
        assert f"Answer: {card['answer']}" in tab.page.inner_text(".gd-answer-label")
        # the right option is still marked, by the class the static card has always had
        border = tab.page.eval_on_selector(
            f".gd-option-{card['answer']}", "el => getComputedStyle(el).borderTopWidth"
        )
        assert border == "2px"
        tab.page.screenshot(path=str(ARTIFACTS / "quiz-no-javascript-back.png"))
    finally:
        tab.close()


def test_storage_refused_leaves_a_working_card(
    browser: Any,
    server: Server,
    quizzes: dict[str, Any],
) -> None:
    # sessionStorage throwing (as on about:blank, or a locked-down client): no error, no shuffle
    card = quizzes["shuffled"][0]
    tab = Tab(browser)
    try:
        tab.page.add_init_script(
            "Object.defineProperty(window, 'sessionStorage', "
            "{get() { throw new Error('denied'); }})"
        )
        tab.page.goto(_droid(server, "front.html", card["front"], card["css"]))
        front = tab.options()
        assert [o["key"] for o in front] == [o["shown"] for o in front], "no shuffle"
        tab.page.click('.gd-option[data-key="A"]')
        tab.page.wait_for_function("window.calls.length > 0")
        tab.page.goto(_droid(server, "back.html", card["back"], card["css"]))
        back = tab.options()
        assert not any(o["chosen"] for o in back), "nothing carried: the static back"
        assert next(o for o in back if o["correct"])["key"] == card["answer"]
        assert tab.errors == []
    finally:
        tab.close()


def test_front_html_never_names_the_answer(quizzes: dict[str, Any]) -> None:
    for card in [*quizzes["plain"], *quizzes["shuffled"]]:
        front = html.unescape(card["front"])
        assert "data-correct" not in front.split("<script>")[0]
        assert "gd-answer-" not in front.split("<script>")[0]


def test_artifacts_folder_exists() -> None:
    assert ARTIFACTS.parent == ROOT
