// Live chat and live updates over WebSockets. Every page works without this script: the forms
// post as usual, and a reload shows what changed. The database is the record; the socket is only
// a fast path, so the client keeps the id of the last message it saw and asks for everything
// after it whenever it reconnects or notices a gap.
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
// The queue page: [data-live-queue] holds the live part of the list; when the queue changes it is
// fetched again (this page's address, filters included, with ?fragment=1) and swapped in.
(function () {
  "use strict";

  var STOP_CODES = {
    4000: "You signed out in another window. Sign in again to keep working live.",
    4401: "You are signed out. Sign in again to see new messages live.",
    4403: "You no longer have access to this case. Reload the page.",
    4404: "This case is no longer available to you. Reload the page."
  };
  var MAX_DELAY_MS = 30000;
  var ACK_TIMEOUT_MS = 10000;

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  // A WebSocket that reconnects with exponential backoff (and jitter) until told to stop.
  function LiveSocket(options) {
    this.options = options;
    this.attempt = 0;
    this.stopped = false;
    this.socket = null;
    this.open();
  }
  LiveSocket.prototype.open = function () {
    var self = this;
    var socket;
    try {
      socket = new WebSocket(socketUrl(self.options.path()));
    } catch (error) {
      self.retry();
      return;
    }
    self.socket = socket;
    socket.addEventListener("open", function () {
      self.attempt = 0;
      if (self.options.onOpen) { self.options.onOpen(); }
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame && typeof frame.type === "string") { self.options.onFrame(frame); }
    });
    socket.addEventListener("close", function (event) {
      self.socket = null;
      if (self.options.onClose) { self.options.onClose(event); }
      if (STOP_CODES[event.code]) {
        self.stopped = true;
        if (self.options.onStop) { self.options.onStop(STOP_CODES[event.code]); }
        return;
      }
      self.retry();
    });
  };
  LiveSocket.prototype.retry = function () {
    var self = this;
    if (self.stopped) { return; }
    var delay = Math.min(MAX_DELAY_MS, 1000 * Math.pow(2, self.attempt)) + Math.floor(Math.random() * 500);
    self.attempt += 1;
    if (self.options.onRetry) { self.options.onRetry(delay); }
    setTimeout(function () { self.open(); }, delay);
  };
  LiveSocket.prototype.isOpen = function () {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  };
  LiveSocket.prototype.send = function (frame) {
    if (!this.isOpen()) { return false; }
    this.socket.send(JSON.stringify(frame));
    return true;
  };

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

  // Text only: every piece of user text goes in through textContent, never as markup.
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
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

  // The notice area: one message at a time, optionally with a reload button.
  function Notice(node) {
    this.node = node;
  }
  Notice.prototype.show = function (text, options) {
    if (!this.node) { return; }
    options = options || {};
    this.node.replaceChildren();
    this.node.classList.toggle("problem", Boolean(options.problem));
    this.node.appendChild(document.createTextNode(text));
    if (options.reload) {
      var button = element("button", "secondary", "Reload");
      button.type = "button";
      button.addEventListener("click", function () { location.reload(); });
      this.node.appendChild(button);
    }
  };
  Notice.prototype.clear = function () {
    if (this.node) { this.node.replaceChildren(); this.node.classList.remove("problem"); }
  };

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

  function start() {
    if (!("WebSocket" in window)) { return; }
    var room = document.querySelector("[data-live-case]");
    if (room) { caseRoom(room); }
    var queue = document.querySelector("[data-live-queue]");
    if (queue) { queueFeed(queue); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
