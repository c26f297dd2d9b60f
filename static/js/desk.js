// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Tell the server the browser's time zone, so times show in it (unless set in Settings).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* older browsers: server time zone */ }

  // Count deadlines down without reloading.
  function describe(ms) {
    var minutes = Math.round(Math.abs(ms) / 60000);
    var text = minutes < 60 ? minutes + " minutes"
      : minutes < 2880 ? Math.round(minutes / 60) + " hours"
      : Math.round(minutes / 1440) + " days";
    return ms > 0 ? "in " + text : text + " ago";
  }
  function tick() {
    document.querySelectorAll("time[data-deadline]").forEach(function (node) {
      var left = node.nextElementSibling;
      if (!left || !left.classList.contains("left")) { return; }
      var ms = new Date(node.getAttribute("datetime")) - new Date();
      left.textContent = describe(ms);
      left.classList.toggle("passed", ms <= 0);
    });
  }
  setInterval(tick, 60000);

  // A form sends once: disable its submit button after the first click.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; }  // sent another way (live.js over the socket)
    var button = event.target.querySelector("button[type=submit]");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });
})();
