/* guidedeck serve: reload this page when the server says it changed (no network beyond the
   server it came from). The server sends each page's tag on connect and after each rebuild. */
(function () {
  "use strict";
  var tag = "__GD_TAG__";
  var page = decodeURIComponent(location.pathname.split("/").pop()) || "index.html";
  var events = new EventSource("/__guidedeck/events");
  events.addEventListener("site", function (event) {
    var tags = JSON.parse(event.data);
    if (tags[page] !== undefined && tags[page] !== tag) {
      events.close();
      location.reload();
    } else if (tags[page] === undefined && page !== "index.html") {
      events.close();
      location.replace("index.html");  // the deck is gone (renamed, or its guide broke)
    }
  });
})();
