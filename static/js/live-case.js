// Live chat on a case page. The database is the record; the socket is only a fast path, so the
// client keeps the id of the last message it saw and asks for everything after it whenever it
// reconnects or notices a gap. Needs live.js before it.
//
// A case page opts in with data attributes on one element:
//   data-live-case="MS-000123"       the case's room: /ws/cases/MS-000123/
//   data-last-message-id="42"        the last message shown on the page
//   data-live-audience="agents"      agents also see internal notes ("party" otherwise)
//   data-live-self="Alex Agenti"     (agents) this agent's name, left out of "also open by"
//   data-live-states='{"open": …}'   (agents) state labels for the status badge
// Inside it: [data-live-timeline] (messages are appended), form[data-live-compose] (sent over
// the socket; data-internal="true" for notes), form[data-live-canned] (fills a message),
// [data-live-notice] and [data-live-presence].
(function () {
  "use strict";

  var ACK_TIMEOUT_MS = 10000;
  var LiveSocket = window.Live.LiveSocket;
  var Notice = window.Live.Notice;
  var element = window.Live.element;

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return iso; }
    try {
      // As the server writes times: "26 Nov 2026, 07:01 CET", in the browser's zone.
      return date.toLocaleString("en-GB", {
        day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
        timeZoneName: "short"
      });
    } catch (error) {
      return date.toString();
    }
  }

  function authorLabel(frame) {
    if (frame.side === "buyer") { return "Buyer · " + frame.author; }
    if (frame.side === "seller") { return "Seller · " + frame.author; }
    return frame.author;  // "Support team · <first name>" already
  }

  function messageEntry(frame) {
    var item = element("li", "entry message" + (frame.internal ? " internal" : ""));
    item.setAttribute("data-message-id", String(frame.id));
    var meta = element("p", "meta");
    meta.appendChild(element("strong", "", authorLabel(frame)));
    meta.appendChild(document.createTextNode(" · "));
    var time = element("time", "", formatTime(frame.created_at));
    time.setAttribute("datetime", frame.created_at);
    meta.appendChild(time);
    if (frame.internal) {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(element("span", "badge small internal", "Internal note · agents only"));
    }
    item.appendChild(meta);
    var body = element("p", "message-body");
    String(frame.body).split("\n").forEach(function (line, index) {
      if (index > 0) { body.appendChild(document.createElement("br")); }
      body.appendChild(document.createTextNode(line));
    });
    item.appendChild(body);
    return item;
  }

  function caseRoom(root) {
    var reference = root.getAttribute("data-live-case");
    var agents = root.getAttribute("data-live-audience") === "agents";
    var selfName = root.getAttribute("data-live-self") || "";
    var lastSeen = parseInt(root.getAttribute("data-last-message-id") || "0", 10) || 0;
    var stateLabels = {};
    try { stateLabels = JSON.parse(root.getAttribute("data-live-states") || "{}"); } catch (error) { /* none */ }
    var timeline = root.querySelector("[data-live-timeline]");
    var presence = root.querySelector("[data-live-presence]");
    var notice = new Notice(root.querySelector("[data-live-notice]"));
    var badge = document.getElementById("case-status");
    var pending = [];  // sends waiting for their "sent": {clientId, form}
    var resyncing = false;
    var changed = false;
    var lost = false;

    var live = new LiveSocket({
      path: function () { return "/ws/cases/" + encodeURIComponent(reference) + "/?after=" + lastSeen; },
      onOpen: function () {
        if (lost && !changed) { notice.clear(); }
        lost = false;
        resyncing = false;
      },
      onFrame: handle,
      onClose: function () {
        pending.forEach(function (send) {
          showComposeError(send.form, "The connection dropped: check the timeline, then send again if it is not there.");
        });
        pending = [];
      },
      onRetry: function () {
        lost = true;
        if (!changed) { notice.show("Live updates paused: reconnecting…"); }
      },
      onStop: function (text) { notice.show(text, { problem: true, reload: true }); }
    });

    function handle(frame) {
      if (frame.type === "message") { receiveMessage(frame); }
      else if (frame.type === "sent") { acknowledge(frame); }
      else if (frame.type === "case.changed") { caseChanged(frame); }
      else if (frame.type === "presence") { showPresence(frame.viewers || []); }
      else if (frame.type === "error") { refused(frame); }
    }

    function receiveMessage(frame) {
      var id = Number(frame.id);
      if (!id || id <= lastSeen) { return; }  // already shown
      // Broadcast frames say which message came before this one for each audience; if it is one
      // we have not seen, something was dropped on the way: ask for everything after the last one.
      var previous = agents ? frame.previous_id : frame.previous_public_id;
      if (typeof previous === "number" && previous > lastSeen) {
        resync();
        return;
      }
      if (timeline) { timeline.appendChild(messageEntry(frame)); }
      lastSeen = id;
      root.setAttribute("data-last-message-id", String(lastSeen));
    }

    function resync() {
      if (resyncing) { return; }
      resyncing = live.send({ type: "resync", after: lastSeen });
      // Frames answer in order; the flag only stops a burst of gaps from asking many times.
      setTimeout(function () { resyncing = false; }, 2000);
    }

    function acknowledge(frame) {
      var index = pending.findIndex(function (send) { return send.clientId === frame.client_id; });
      if (index === -1) { return; }
      var send = pending.splice(index, 1)[0];
      var field = send.form.querySelector("textarea");
      if (field) { field.value = ""; field.focus(); }
      clearComposeError(send.form);
      setBusy(send.form, false);
    }

    function refused(frame) {
      var send = pending.shift();  // errors answer the oldest send still waiting
      if (send) {
        showComposeError(send.form, frame.message || "That message was not sent.");
        setBusy(send.form, false);
      }
    }

    function caseChanged(frame) {
      if (badge) { badge.textContent = (agents && stateLabels[frame.state]) || frame.label || badge.textContent; }
      changed = true;
      notice.show("This case was updated. Reload to see what changed and what you can do now.", { reload: true });
    }

    function showPresence(viewers) {
      if (!presence) { return; }
      var others = viewers.filter(function (name) { return name !== selfName; });
      presence.textContent = others.length
        ? "Also open by: " + others.join(", ") + "."
        : "No other agent has this case open.";
    }

    function setBusy(form, busy) {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = busy; }
    }

    function showComposeError(form, text) {
      var node = form.querySelector(".compose-error");
      if (!node) {
        node = element("p", "compose-error");
        node.setAttribute("role", "alert");
        var button = form.querySelector("button[type=submit]");
        form.insertBefore(node, button);
      }
      node.textContent = text;
    }

    function clearComposeError(form) {
      var node = form.querySelector(".compose-error");
      if (node) { node.remove(); }
    }

    Array.prototype.forEach.call(root.querySelectorAll("form[data-live-compose]"), function (form) {
      form.addEventListener("submit", function (event) {
        var field = form.querySelector("textarea");
        var body = field ? field.value.trim() : "";
        if (!body || !live.isOpen()) { return; }  // the normal post: it explains an empty message too
        var clientId = String(Date.now()) + "-" + Math.random().toString(36).slice(2);
        var sent = live.send({
          type: "message.send",
          body: body,
          internal: form.getAttribute("data-internal") === "true",
          client_id: clientId
        });
        if (!sent) { return; }
        event.preventDefault();
        var send = { clientId: clientId, form: form };
        pending.push(send);
        setBusy(form, true);
        // No answer in time: keep the text and say so, rather than post it twice.
        setTimeout(function () {
          var index = pending.indexOf(send);
          if (index === -1) { return; }
          pending.splice(index, 1);
          setBusy(form, false);
          showComposeError(form, "No answer from the server yet: check the timeline, then send again if it is not there.");
        }, ACK_TIMEOUT_MS);
      });
    });

    // A canned reply is written out by the server for this case and put in the message box.
    Array.prototype.forEach.call(root.querySelectorAll("form[data-live-canned]"), function (form) {
      form.addEventListener("submit", function (event) {
        var target = document.getElementById(form.getAttribute("data-live-canned"));
        if (!target || !window.fetch) { return; }
        event.preventDefault();
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { "Accept": "application/json" }
        }).then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        }).then(function (reply) {
          target.value = target.value.trim() ? target.value.replace(/\s+$/, "") + "\n\n" + reply.body : reply.body;
          target.focus();
          setBusy(form, false);
        }).catch(function () {
          form.submit();  // the page's own way: the workspace comes back with the message filled in
        });
      });
    });
  }

  window.Live.onReady(function () {
    var root = document.querySelector("[data-live-case]");
    if (root) { caseRoom(root); }
  });
})();
