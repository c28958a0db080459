// guidedeck quiz cards: tap an option on the front, see it marked on the back. With a keyboard,
// Tab reaches the options and Enter or Space answers with the focused one (in Anki desktop, its
// own Show Answer keys, which then show a back that marks it). No other key is taken: clients
// bind letters and digits to their own shortcuts first.
// Included in both quiz templates. Without JavaScript, or where nothing can be stored, the card
// stays the static one: every change below is made by this script, none by CSS alone.
//
// The choice travels from front to back the way anki-persistence (MIT) carries data:
// sessionStorage where the client allows it (Anki desktop, AnkiDroid, which loads the back as a
// new page), and a global on window where the page is kept (Anki desktop, AnkiMobile). It is
// keyed by the note's ID field, and every front starts a fresh record, so a choice never reaches
// another card, nor this card's next review.
(function () {
  "use strict";
  var KEY = "guidedeck:quiz";

  function storage() {
    try {
      var s = window.sessionStorage;
      s.setItem(KEY + ":probe", "1");
      s.removeItem(KEY + ":probe");
      return s;
    } catch (e) {
      return null; // about:blank, private modes, clients without storage
    }
  }

  function load(id) {
    var record = null;
    var s = storage();
    try {
      record = s ? JSON.parse(s.getItem(KEY) || "null") : null;
    } catch (e) {
      record = null;
    }
    if (!record || record.id !== id) {
      record = window.__guidedeckQuiz || null;
    }
    return record && record.id === id ? record : null;
  }

  function save(record) {
    window.__guidedeckQuiz = record;
    var s = storage();
    if (s) {
      try {
        s.setItem(KEY, JSON.stringify(record));
      } catch (e) { /* full or refused: the global still holds it where the page is kept */ }
    }
  }

  // Each client's documented way to show the answer, in the order cross-platform templates
  // test for them. Where none applies (an older client, the preview), the front keeps the
  // choice marked and the client's own Show Answer gives a back that marks it.
  function showAnswer() {
    try {
      if (typeof window.pycmd === "function") { window.pycmd("ans"); return; }           // Anki desktop
      if (window.study && typeof window.study.drawAnswer === "function") {
        window.study.drawAnswer(); return;                                                // AnkiWeb
      }
      if (typeof window.showAnswer === "function") { window.showAnswer(); return; }     // AnkiDroid
      if (window.anki && typeof window.sendMessage2 === "function") {
        window.sendMessage2("ankitap", "midCenter");                                      // AnkiMobile
      }
    } catch (e) { /* the learner can still show the answer the usual way */ }
  }

  // the card this script belongs to: the last quiz card not yet set up
  var cards = document.querySelectorAll(".gd-quiz[data-note]:not([data-gd-ready])");
  var card = cards[cards.length - 1];
  if (!card) { return; }
  card.setAttribute("data-gd-ready", "");
  var id = card.getAttribute("data-note") || "";
  var list = card.querySelector(".gd-options");
  if (!list || !id) { return; }
  var items = Array.prototype.filter.call(list.children, function (li) {
    return li.hasAttribute("data-key");
  });
  var keys = items.map(function (li) { return li.getAttribute("data-key"); });
  var back = card.classList.contains("gd-back");

  function byKeyboard(el) {
    try {
      return el.matches(":focus-visible");
    } catch (e) {
      return true; // a client without :focus-visible: a focused option is still a choice
    }
  }

  function arrange(order) {
    // show the options in ``order`` (original letters), lettered A, B, C... as displayed
    order.forEach(function (key, n) {
      var li = items[keys.indexOf(key)];
      if (!li) { return; }
      var shown = String.fromCharCode(65 + n);
      li.setAttribute("data-option", shown);
      var letter = li.querySelector(".gd-letter");
      if (letter) { letter.textContent = shown; }
      list.appendChild(li);
    });
  }

  function valid(order) {
    return order && order.length === keys.length &&
      keys.every(function (k) { return order.indexOf(k) !== -1; });
  }

  if (!back) {
    var order = keys.slice();
    if (list.hasAttribute("data-shuffle") && storage()) {
      // only where the order can reach the back: else front and back would disagree
      for (var i = order.length - 1; i > 0; i -= 1) {
        var j = Math.floor(Math.random() * (i + 1));
        var t = order[i]; order[i] = order[j]; order[j] = t;
      }
    }
    arrange(order);
    var record = { id: id, order: order, choice: null };
    save(record);
    var chosen = false;
    var mark = function (li) {
      items.forEach(function (other) { other.setAttribute("aria-pressed", String(other === li)); });
      record.choice = li.getAttribute("data-key");
      save(record);
    };
    var choose = function (li) {
      if (chosen) { return; }
      chosen = true;
      mark(li);
      window.setTimeout(showAnswer, 150); // long enough to see the press
    };
    items.forEach(function (li) {
      li.setAttribute("role", "button");
      li.setAttribute("tabindex", "0");
      li.setAttribute("aria-pressed", "false");
      // AnkiMobile and AnkiDroid's study screen treat a tap on anything else as a tap on the
      // screen (which may show the answer or grade the card): these mark the option as tappable
      li.classList.add("tappable");
      li.onclick = function () { choose(li); };
      li.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(li); }
      });
      // Anki desktop takes Enter and Space for its own Show Answer before the page sees them:
      // an option reached with Tab is the choice, so that key shows a back that marks it
      li.addEventListener("focus", function () {
        if (!chosen && byKeyboard(li)) { mark(li); }
      });
    });
    return;
  }

  // the back: the front's order, the correct option, and the learner's choice
  var saved = load(id);
  if (saved && valid(saved.order)) { arrange(saved.order); }
  var answer = card.getAttribute("data-answer");
  var correct = items[keys.indexOf(answer)];
  if (!correct) { return; }
  correct.setAttribute("data-correct", "");
  var shownAnswer = correct.getAttribute("data-option");
  var label = card.querySelector(".gd-answer-letter");
  if (label && shownAnswer) { label.textContent = shownAnswer; }
  var picked = saved && saved.choice ? items[keys.indexOf(saved.choice)] : null;
  if (!picked) { return; }
  picked.setAttribute("data-chosen", "");
  var verdict = document.createElement("p");
  var right = picked === correct;
  verdict.className = "gd-verdict " + (right ? "gd-verdict-right" : "gd-verdict-wrong");
  verdict.setAttribute("role", "status");
  verdict.textContent = right
    ? "\u2713 You chose " + picked.getAttribute("data-option") + ": right."
    : "\u2717 You chose " + picked.getAttribute("data-option") + "; the answer is " + shownAnswer + ".";
  list.parentNode.insertBefore(verdict, list);
})();
