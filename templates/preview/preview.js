// The preview page's controls: night mode, a filter by card kind, and a text search; and a
// tap on a quiz's front shows its back marked, as a client flips to it.
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll(".pv-card"));
  var night = document.getElementById("pv-night");
  var kind = document.getElementById("pv-filter");
  var search = document.getElementById("pv-search");
  var count = document.getElementById("pv-count");

  function apply() {
    var query = search ? search.value.trim().toLowerCase() : "";
    var wanted = kind ? kind.value : "";
    var shown = 0;
    cards.forEach(function (card) {
      var ok = (!wanted || card.getAttribute("data-kind") === wanted) &&
        (!query || card.textContent.toLowerCase().indexOf(query) !== -1);
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    if (count) { count.textContent = shown + " of " + cards.length; }
  }

  // the back of ``article`` shown again from its unrun markup, its scripts run, as Anki
  // desktop's reviewer puts a back into its page
  function showBack(article) {
    var source = article.querySelector(".pv-back-source");
    var side = article.querySelector(".pv-back .card");
    if (!source || !side) { return; }
    side.innerHTML = source.innerHTML;
    Array.prototype.slice.call(side.querySelectorAll("script")).forEach(function (old) {
      var fresh = document.createElement("script");
      fresh.text = old.text;
      old.parentNode.replaceChild(fresh, old);
    });
    article.querySelector(".pv-back").scrollIntoView({ block: "nearest" });
  }

  function answered(event) {
    var option = event.target.closest && event.target.closest(".pv-front .gd-option[role='button']");
    if (!option) { return; }
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") { return; }
    var article = option.closest(".pv-card");
    // after the card's own handler has stored the choice
    window.setTimeout(function () { showBack(article); }, 0);
  }

  document.addEventListener("click", answered);
  document.addEventListener("keydown", answered);
  if (night) {
    night.addEventListener("click", function () {
      var on = night.getAttribute("aria-pressed") !== "true";
      night.setAttribute("aria-pressed", String(on));
      document.body.classList.toggle("pv-night", on);
      document.querySelectorAll(".card").forEach(function (card) {
        // the classes Anki desktop and AnkiDroid put on a card in night mode
        card.classList.toggle("nightMode", on);
        card.classList.toggle("night_mode", on);
      });
    });
  }
  if (kind) { kind.addEventListener("change", apply); }
  if (search) { search.addEventListener("input", apply); }
  apply();
})();
