// The console's queue page: [data-live-queue] holds the live part of the list; when the queue
// changes it is fetched again (this page's address, filters included, with ?fragment=1) and
// swapped in. Needs live.js before it.
(function () {
  "use strict";

  var LiveSocket = window.Live.LiveSocket;
  var Notice = window.Live.Notice;

  function queueFeed(container) {
    var notice = new Notice(document.querySelector("[data-live-notice]"));
    var timer = null;
    var inFlight = false;
    var again = false;

    function refresh() {
      if (inFlight) { again = true; return; }
      inFlight = true;
      var url = new URL(location.href);
      url.searchParams.set("fragment", "1");
      fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          // Server-rendered and escaped by the template, like the rest of the page.
          var template = document.createElement("template");
          template.innerHTML = html;
          var focusedReference = focusedRow();
          container.replaceChildren(template.content);
          restoreFocus(focusedReference);
          notice.show("The queue was updated at " + new Date().toLocaleTimeString() + ".");
        })
        .catch(function () {
          notice.show("The queue could not be updated. Reload the page.", { problem: true, reload: true });
        })
        .then(function () {
          inFlight = false;
          if (again) { again = false; refresh(); }
        });
    }

    function focusedRow() {
      var row = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-reference]");
      return row && container.contains(row) ? row.getAttribute("data-reference") : null;
    }

    function restoreFocus(reference) {
      if (!reference) { return; }
      var row = container.querySelector('[data-reference="' + CSS.escape(reference) + '"] a');
      if (row) { row.focus(); }
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    }

    var reconnecting = false;
    new LiveSocket({
      path: function () { return "/ws/console/queue/"; },
      onOpen: function () {
        if (reconnecting) { soon(); }  // events may have been missed while away
        reconnecting = false;
      },
      onFrame: function (frame) {
        if (frame.type === "queue.changed") { soon(); }
      },
      onRetry: function () {
        reconnecting = true;
        notice.show("Live updates paused: reconnecting…");
      },
      onStop: function (text) { notice.show(text, { problem: true, reload: true }); }
    });
  }

  window.Live.onReady(function () {
    var container = document.querySelector("[data-live-queue]");
    if (container) { queueFeed(container); }
  });
})();
