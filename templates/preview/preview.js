// The preview page's controls: night mode, a filter by card kind, and a text search.
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll(".pv-card"));
  var night = document.getElementById("pv-night");
  var kinds = Array.prototype.slice.call(document.querySelectorAll("[data-pv-kind]"));
  var search = document.getElementById("pv-search");
  var count = document.getElementById("pv-count");
  var kind = "";

  function apply() {
    var query = search ? search.value.trim().toLowerCase() : "";
    var shown = 0;
    cards.forEach(function (card) {
      var ok = (!kind || card.getAttribute("data-kind") === kind) &&
        (!query || card.textContent.toLowerCase().indexOf(query) !== -1);
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    if (count) { count.textContent = shown + " of " + cards.length + " cards"; }
  }

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
  kinds.forEach(function (button) {
    button.addEventListener("click", function () {
      kind = button.getAttribute("data-pv-kind");
      kinds.forEach(function (other) { other.setAttribute("aria-pressed", String(other === button)); });
      apply();
    });
  });
  if (search) { search.addEventListener("input", apply); }
  apply();
})();
