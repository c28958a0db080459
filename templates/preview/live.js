/* guidedeck serve: reload this page when the server says it changed (no network beyond the
   server it came from). The page asks for every page's tag ten times a second: a short
   request, so no tab holds a connection open (a browser opens only 6 to one host). */
(function () {
  "use strict";
  var tag = "__GD_TAG__";
  var page = decodeURIComponent(location.pathname.split("/").pop()) || "index.html";
  var asking = false;
  var done = false;
  function follow(tags) {
    if (tags[page] !== undefined && tags[page] !== tag) {
      done = true;
      location.reload();
    } else if (tags[page] === undefined && page !== "index.html") {
      done = true;
      location.replace("index.html");  // the deck is gone (renamed, or its guide broke)
    }
  }
  function ask() {
    if (asking || done) {
      return;
    }
    asking = true;
    fetch("/__guidedeck/tags", { cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.json() : {}; })
      .then(follow, function () { /* the server is restarting: ask again later */ })
      .then(function () { asking = false; });
  }
  setInterval(ask, 100);
  document.addEventListener("visibilitychange", ask);
})();
