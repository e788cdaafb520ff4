// Small progressive enhancements shared by every page. No inline script (CSP).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });

  // The per-user event stream: notices and revocations pushed by the server.
  function connectEvents(path, attempt) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + path);
    socket.addEventListener("open", function () { attempt = 0; });
    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("platform:event", { detail: event }));
      if (event.type === "session.revoked") { location.reload(); }
    });
    socket.addEventListener("close", function (closeEvent) {
      if (closeEvent.code === 4401 || closeEvent.code === 4403) { return; }
      var delay = Math.min(30000, 500 * Math.pow(2, attempt));
      setTimeout(function () { connectEvents(path, attempt + 1); }, delay);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var path = document.body.getAttribute("data-events-url");
    if (path) { connectEvents(path, 0); }
  });
})();
