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

  // A notice pushed by the server (budget alerts): a toast, and the header count.
  function showToast(text) {
    var toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("role", "status");
    toast.setAttribute("data-testid", "toast");
    toast.textContent = text;
    document.body.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 10000);
    var link = document.querySelector('[data-testid="notices-link"]');
    if (link) {
      var badge = link.querySelector(".badge");
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "badge";
        badge.setAttribute("data-testid", "unread-notices");
        badge.textContent = "0";
        link.appendChild(document.createTextNode(" "));
        link.appendChild(badge);
      }
      badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
    }
  }

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
      if (event.type === "notice.show") { showToast(event.text); }
    });
    socket.addEventListener("close", function (closeEvent) {
      if (closeEvent.code === 4401 || closeEvent.code === 4403) { return; }
      var delay = Math.min(30000, 500 * Math.pow(2, attempt));
      setTimeout(function () { connectEvents(path, attempt + 1); }, delay);
    });
  }

  // Phones: the chat's conversation list is a drawer (chat/_layout.html, app.css), opened
  // by the menu button; its close button, a tap beside it and Escape close it again.
  // Scripts are deferred, so the page is parsed by now.
  var drawer = (function () {
    var layout = document.getElementById("chat-layout");
    var toggle = document.getElementById("sidebar-toggle");
    var sidebar = document.getElementById("chat-sidebar");
    var closeButton = document.getElementById("sidebar-close");
    var backdrop = document.getElementById("sidebar-backdrop");
    if (!layout || !toggle || !sidebar || !closeButton || !backdrop) { return null; }
    var main = layout.querySelector(".chat-main");
    var narrow = window.matchMedia("(max-width: 700px)");

    function isOpen() { return toggle.getAttribute("aria-expanded") === "true"; }

    function setOpen(open, focusTarget) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      layout.classList.toggle("sidebar-open", open);
      document.documentElement.classList.toggle("drawer-open", open);
      backdrop.hidden = !open;
      if (main) { main.inert = open; }  // the conversation behind is out of reach
      if (focusTarget) { focusTarget.focus(); }
    }

    toggle.addEventListener("click", function () {
      if (isOpen()) { setOpen(false); } else { setOpen(true, closeButton); }
    });
    closeButton.addEventListener("click", function () { setOpen(false, toggle); });
    backdrop.addEventListener("click", function () { setOpen(false, toggle); });
    // Wider than a phone the list is a column again: leave nothing inert behind.
    narrow.addEventListener("change", function () { if (!narrow.matches && isOpen()) { setOpen(false); } });

    return {
      isOpen: isOpen,
      isHidden: function () { return narrow.matches && !isOpen(); },
      open: function () { setOpen(true); },
      close: function () { setOpen(false, toggle); }
    };
  })();

  // Shortcuts: Ctrl/Cmd+Shift+O a new chat, Ctrl/Cmd+K the search box, Escape closes
  // the drawer (before the conversation page's own Escape, which stops an answer).
  document.addEventListener("keydown", function (event) {
    var mod = event.ctrlKey || event.metaKey;
    if (event.key === "Escape" && drawer && drawer.isOpen()) {
      event.preventDefault();
      drawer.close();
    } else if (mod && event.shiftKey && (event.key === "O" || event.key === "o")) {
      var link = document.querySelector('[data-shortcut="new-chat"]');
      if (link) { event.preventDefault(); location.href = link.getAttribute("href"); }
    } else if (mod && (event.key === "k" || event.key === "K")) {
      var search = document.querySelector('[data-shortcut="search"]');
      if (search) {
        event.preventDefault();
        if (drawer && drawer.isHidden() && search.closest("#chat-sidebar")) { drawer.open(); }
        search.focus();
      }
    }
  });

  // A form with data-confirm asks first (deleting a document, for example).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var path = document.body.getAttribute("data-events-url");
    if (path) { connectEvents(path, 0); }
  });
})();
