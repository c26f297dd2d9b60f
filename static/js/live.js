// The live connection the case room (live-case.js) and the console's queue (live-queue.js) share:
// a WebSocket that reconnects with backoff, and the page's notice area. Every page works without
// these scripts: the forms post as usual, and a reload shows what changed.
(function () {
  "use strict";

  var STOP_CODES = {
    4000: "You signed out in another window. Sign in again to keep working live.",
    4401: "You are signed out. Sign in again to see new messages live.",
    4403: "You no longer have access to this case. Reload the page.",
    4404: "This case is no longer available to you. Reload the page."
  };
  var MAX_DELAY_MS = 30000;

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

  // Text only: every piece of user text goes in through textContent, never as markup.
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
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

  // Runs start once the page is parsed, if the browser has WebSockets at all.
  function onReady(start) {
    if (!("WebSocket" in window)) { return; }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
    } else {
      start();
    }
  }

  window.Live = { LiveSocket: LiveSocket, Notice: Notice, element: element, onReady: onReady };
})();
