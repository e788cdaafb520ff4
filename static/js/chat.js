// The conversation page: a websocket that survives drops, streamed answers that
// resume from the last character received, and server-rendered HTML when done.
(function () {
  "use strict";
  var root = document.getElementById("conversation");
  if (!root) { return; }

  var list = document.getElementById("messages");
  var form = document.getElementById("composer");
  var textarea = document.getElementById("composer-text");
  var sendButton = document.getElementById("send-button");
  var stopButton = document.getElementById("stop-button");
  var errorBox = document.getElementById("chat-error");
  var messageUrl = root.getAttribute("data-message-url");
  var socket = null;
  var attempt = 0;
  var leafId = root.getAttribute("data-leaf-id") || null;
  // message id -> {length: code points received, el: the answer's <li>}
  var streams = {};

  function codePoints(text) { var n = 0; for (var _ of text) { n += 1; } return n; }
  function sliceFrom(text, points) { return Array.from(text).slice(points).join(""); }

  function errorText(code) {
    var tpl = document.getElementById("error-messages");
    var node = tpl.content.querySelector('[data-code="' + code + '"]') ||
      tpl.content.querySelector('[data-code="default"]');
    return node.textContent;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function setBusy(busy) {
    stopButton.hidden = !busy;
    sendButton.disabled = busy;
  }

  function answerElement(id) { return list.querySelector('li[data-message-id="' + id + '"]'); }

  function addUserMessage(id, text, parentId) {
    if (answerElement(id)) { return; }
    var li = document.createElement("li");
    li.className = "message user";
    li.setAttribute("data-message-id", id);
    li.setAttribute("data-role", "user");
    li.setAttribute("data-parent-id", parentId || "");
    var bubble = document.createElement("div");
    bubble.className = "bubble user-text";
    // line breaks as the server shows them (linebreaksbr), the text as text
    text.split(/\r\n|\r|\n/).forEach(function (line, index) {
      if (index > 0) { bubble.appendChild(document.createElement("br")); }
      bubble.appendChild(document.createTextNode(line));
    });
    li.appendChild(bubble);
    list.appendChild(li);
  }

  function addAnswer(id, parentId) {
    var existing = answerElement(id);
    if (existing) { return existing; }
    var li = document.createElement("li");
    li.className = "message assistant";
    li.setAttribute("data-message-id", id);
    li.setAttribute("data-role", "assistant");
    li.setAttribute("data-status", "streaming");
    li.setAttribute("data-parent-id", parentId);
    li.innerHTML = '<div class="bubble answer md"><div class="md-frozen"></div>' +
      '<div class="md-tail"></div><div class="streaming-text md-pending"></div></div>' +
      '<div class="meta muted small" data-testid="message-meta"></div>';
    list.appendChild(li);
    return li;
  }

  function trackStream(id, el, length) {
    streams[id] = {length: length, el: el};
    setBusy(true);
  }

  function onDelta(event) {
    var stream = streams[event.message_id];
    if (!stream) {
      var el = addAnswer(event.message_id, "");
      stream = streams[event.message_id] = {length: 0, el: el};
      setBusy(true);
    }
    // Offsets make resends harmless: keep only what we do not have yet.
    if (event.offset > stream.length) { resume(event.message_id, stream.length); return; }
    var fresh = sliceFrom(event.text, stream.length - event.offset);
    if (!fresh) { return; }
    if (event.render) {
      applyRender(stream.el, event.render);
    } else {
      var target = stream.el.querySelector(".streaming-text");
      // A new text node per batch: appending never copies what is already shown,
      // so a long answer costs the browser linear, not quadratic, work.
      if (target) { target.appendChild(document.createTextNode(fresh)); }
    }
    stream.length += codePoints(fresh);
    list.lastElementChild.scrollIntoView({block: "end"});
  }

  // HTML rendered (and sanitised) by the server for the part of an answer received so
  // far: completed blocks are appended once, the growing block is replaced.
  function applyRender(el, render) {
    var bubble = el.querySelector(".bubble");
    var frozen = bubble.querySelector(".md-frozen");
    var tail = bubble.querySelector(".md-tail");
    var pending = bubble.querySelector(".md-pending");
    if (!frozen || !tail || !pending) { return; }
    if (render.reset) { frozen.innerHTML = ""; tail.innerHTML = ""; pending.textContent = ""; }
    if (render.frozen) { frozen.insertAdjacentHTML("beforeend", render.frozen); }
    if (render.tail !== null) { tail.innerHTML = render.tail; pending.textContent = ""; }
    if (render.raw) { pending.appendChild(document.createTextNode(render.raw)); }
  }

  function onReset(event) {
    var stream = streams[event.message_id];
    if (stream) { applyRender(stream.el, event.render); }
  }

  function onDone(event) {
    var stream = streams[event.message_id];
    delete streams[event.message_id];
    if (Object.keys(streams).length === 0) { setBusy(false); }
    var el = (stream && stream.el) || answerElement(event.message_id);
    if (!el) { return; }
    leafId = String(event.message_id);
    fetch(messageUrl + event.message_id + "/", {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) { finishAnswer(el, data); });
  }

  function finishAnswer(el, data) {
    el.setAttribute("data-status", data.status);
    el.querySelector(".bubble").innerHTML = data.html;  // sanitised on the server
    addArtifactButtons(el.parentNode);
    var meta = el.querySelector(".meta");
    meta.textContent = data.meta;  // figures worded by the server in the reader's language
    if (data.citations && data.citations.length && !el.querySelector(".citations")) {
      var sources = document.createElement("ol");
      sources.className = "citations small";
      sources.setAttribute("data-testid", "citations");
      data.citations.forEach(function (c) {
        var item = document.createElement("li");
        var label = item;
        if (c.url) {
          label = document.createElement("a");
          label.href = c.url;  // a same-site path from the server
          label.target = "_blank";
          label.rel = "noopener";
          label.setAttribute("data-testid", "citation-link");
          item.appendChild(label);
        }
        label.textContent = "[" + c.ordinal + "] " + c.title + (c.page ? " · p. " + c.page : "");
        sources.appendChild(item);
      });
      meta.before(sources);
    }
    if (data.status === "error" || data.status === "interrupted") {
      var note = document.createElement("span");
      note.className = "status-error";
      note.setAttribute("data-testid", "answer-error");
      note.textContent = " " + (data.error_text || errorText(data.error_code || data.status)) + " ";
      meta.appendChild(note);
    }
    // Regenerate (or retry), copy and delete, as the server renders them on a reload.
    meta.insertAdjacentHTML("beforeend", " " + data.actions);
    var question = answerElement(el.getAttribute("data-parent-id"));
    if (data.question_actions && question && !question.querySelector(".meta")) {
      var questionMeta = document.createElement("div");
      questionMeta.className = "meta muted small";
      questionMeta.innerHTML = data.question_actions;  // edit, copy, delete (server-rendered)
      question.appendChild(questionMeta);
    }
  }

  function showTitle(title) {
    var input = document.getElementById("conversation-title");
    if (title && input && !input.value) { input.value = title; }
    var current = document.querySelector(".conversation-list li.current a");
    if (title && current) { current.textContent = title; }
    if (title) { document.title = title; }
  }

  function onStarted(event) {
    if (reloadOnStart) { location.reload(); return; }  // show the new branch
    showTitle(event.title);
    addUserMessage(event.user_message_id, event.user_text || "", event.user_parent_id);
    var el = addAnswer(event.message_id, event.user_message_id);
    if (!streams[event.message_id]) { trackStream(event.message_id, el, 0); }
    leafId = String(event.message_id);
  }

  function resume(messageId, offset) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({type: "resume", message_id: Number(messageId), offset: offset}));
    }
  }

  function resumeAll() {
    Object.keys(streams).forEach(function (id) { resume(id, streams[id].length); });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    if (socket) { return; }
    socket = new WebSocket(scheme + location.host + root.getAttribute("data-socket-url"));
    socket.addEventListener("open", function () { attempt = 0; showError(""); });
    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "ready") { socket.ready = true; resumeAll(); flushOutbox(); }
      else if (event.type === "message.started") { onStarted(event); }
      else if (event.type === "message.delta") { onDelta(event); }
      else if (event.type === "message.render.reset") { onReset(event); }
      else if (event.type === "message.done") { onDone(event); }
      else if (event.type === "error") { showError(event.message); }
      else if (event.type === "session.revoked") { location.reload(); }
    });
    socket.addEventListener("close", function (closeEvent) {
      if (this.abandoned) { scheduleReconnect(); return; }
      socket = null;
      if (closeEvent.code === 4401 || closeEvent.code === 4403 || closeEvent.code === 4404) {
        location.reload();
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    var delay = Math.min(10000, 300 * Math.pow(2, attempt)) * (0.8 + Math.random() * 0.4);
    attempt += 1;
    setTimeout(connect, delay);
  }

  // A socket does not notice the network going away; drop it and come back later.
  window.addEventListener("offline", function () {
    if (!socket) { return; }
    var old = socket;
    socket = null;
    old.abandoned = true;
    old.close();
  });
  window.addEventListener("online", function () { if (!socket) { attempt = 0; connect(); } });

  // Requests made while the socket is (re)connecting wait here and go out on "ready".
  var outbox = [];

  function request(payload) {
    if (socket && socket.readyState === WebSocket.OPEN && socket.ready) {
      socket.send(JSON.stringify(payload));
    } else {
      outbox.push(payload);
    }
  }

  function flushOutbox() {
    var pending = outbox;
    outbox = [];
    pending.forEach(request);
  }

  function send() {
    var text = textarea.value;
    if (!text.trim()) { return; }
    request({type: "send", text: text, parent_id: leafId ? Number(leafId) : null});
    textarea.value = "";
    fitComposer();
  }

  // On a phone the message box grows with its text up to its CSS max-height, then
  // scrolls; elsewhere it keeps its rows and its resize handle. The composer's height
  // is published as --composer-height, so that a message scrolled into view ends above
  // the composer that sticks to the bottom of the screen (scroll-margin in app.css).
  var compact = window.matchMedia("(max-width: 700px)");

  function publishComposerHeight() {
    root.style.setProperty("--composer-height", form.offsetHeight + "px");
  }

  function fitComposer() {
    if (compact.matches) {
      var scrolled = window.scrollY;  // the page is shorter for a moment: keep its place
      textarea.style.height = "0px";  // then min-height, and scrollHeight is the text's
      var borders = textarea.offsetHeight - textarea.clientHeight;
      textarea.style.height = textarea.scrollHeight + borders + "px";
      if (window.scrollY !== scrolled) { window.scrollTo(window.scrollX, scrolled); }
    } else if (textarea.style.height) {
      textarea.style.height = "";
    }
    publishComposerHeight();
  }

  textarea.addEventListener("input", fitComposer);
  compact.addEventListener("change", fitComposer);
  if (window.ResizeObserver) { new ResizeObserver(publishComposerHeight).observe(form); }
  fitComposer();

  // On a touch screen without a mouse, Enter breaks the line (the on-screen keyboard
  // has no Shift+Enter); the Send button sends.
  var touchOnly = window.matchMedia("(hover: none) and (pointer: coarse)");
  if (touchOnly.matches) { textarea.placeholder = textarea.getAttribute("data-touch-placeholder"); }

  form.addEventListener("submit", function (event) { event.preventDefault(); send(); });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !touchOnly.matches) {
      event.preventDefault();
      send();
    }
  });
  stopButton.addEventListener("click", stopAll);

  function stopAll() {
    Object.keys(streams).forEach(function (id) {
      request({type: "stop", message_id: Number(id)});
    });
  }

  var reloadOnStart = false;

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) { return; }
    var action = button.getAttribute("data-action");
    var li = button.closest("li.message");
    if (action === "regenerate") {
      request({type: "regenerate", message_id: Number(button.getAttribute("data-parent-id"))});
    } else if (action === "copy" && li && navigator.clipboard) {
      navigator.clipboard.writeText(li.querySelector(".bubble").innerText);
    } else if (action === "edit" && li) {
      startEdit(li, button.getAttribute("data-parent-id"));
    }
  });

  // Editing a question forks the conversation: the edit is a sibling of the original.
  function startEdit(li, parentId) {
    var bubble = li.querySelector(".bubble");
    if (li.querySelector("textarea")) { return; }
    var box = document.createElement("textarea");
    box.value = bubble.innerText;
    box.rows = 3;
    box.setAttribute("data-testid", "edit-text");
    var save = document.createElement("button");
    save.type = "button";
    save.className = "primary small";
    save.setAttribute("data-testid", "edit-save");
    save.textContent = sendButton.textContent;
    save.addEventListener("click", function () {
      if (!box.value.trim()) { return; }
      reloadOnStart = true;
      request({type: "send", text: box.value, parent_id: parentId ? Number(parentId) : null});
    });
    bubble.after(box, save);
  }

  document.addEventListener("keydown", function (event) {
    // defaultPrevented: the Escape closed something else first (the drawer, app.js).
    if (event.key === "Escape" && !event.defaultPrevented && Object.keys(streams).length) { stopAll(); }
  });

  // Prompt templates: {{variables}} are asked for in a small form, then filled in.
  var templateSelect = document.getElementById("template-select");
  var templateForm = document.getElementById("template-form");
  var templateFields = document.getElementById("template-fields");
  var templateBody = "";

  function templateVariables(body) {
    var names = [];
    var pattern = /\{\{\s*([^{}\n]{1,40}?)\s*\}\}/g;
    var match;
    while ((match = pattern.exec(body)) !== null) {
      if (names.indexOf(match[1]) < 0) { names.push(match[1]); }
    }
    return names;
  }

  if (templateSelect) {
    templateSelect.addEventListener("change", function () {
      var option = templateSelect.selectedOptions[0];
      templateBody = option ? option.getAttribute("data-body") || "" : "";
      templateFields.textContent = "";
      var names = templateVariables(templateBody);
      if (!names.length) {
        textarea.value = templateBody;
        templateForm.hidden = true;
        fitComposer();
        return;
      }
      names.forEach(function (name) {
        var label = document.createElement("label");
        label.textContent = name;
        var input = document.createElement("input");
        input.type = "text";
        input.setAttribute("data-variable", name);
        label.appendChild(input);
        templateFields.appendChild(label);
      });
      templateForm.hidden = false;
      templateFields.querySelector("input").focus();
    });
    document.getElementById("template-insert").addEventListener("click", function () {
      var values = {};
      templateFields.querySelectorAll("input[data-variable]").forEach(function (input) {
        values[input.getAttribute("data-variable")] = input.value;
      });
      textarea.value = templateBody.replace(/\{\{\s*([^{}\n]{1,40}?)\s*\}\}/g, function (all, name) {
        return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : all;
      });
      templateForm.hidden = true;
      templateSelect.value = "";
      fitComposer();
      textarea.focus();
    });
  }

  // Artifacts: HTML and SVG blocks open in a sandboxed side panel, code next to it.
  var panel = document.getElementById("artifact-panel");
  var frame = document.getElementById("artifact-frame");

  function addArtifactButtons(scope) {
    scope.querySelectorAll("li.message.assistant .md-code").forEach(function (block) {
      var lang = block.querySelector(".md-code-lang");
      var name = lang ? lang.textContent.trim().toLowerCase() : "";
      if (["html", "svg", "xml"].indexOf(name) < 0 || block.querySelector(".md-artifact")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "md-artifact";
      button.setAttribute("data-testid", "open-artifact");
      button.textContent = errorText("open-artifact");
      block.querySelector(".md-code-head").appendChild(button);
    });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest(".md-artifact");
    if (!button) { return; }
    var li = button.closest("li.message");
    var blocks = Array.from(li.querySelectorAll(".md-code"));
    var block = button.closest(".md-code");
    var index = blocks.indexOf(block);
    frame.src = messageUrl + li.getAttribute("data-message-id") + "/artifact/" + index + "/";
    document.getElementById("artifact-code").textContent = block.querySelector("pre").innerText;
    panel.hidden = false;
  });
  document.getElementById("artifact-close").addEventListener("click", function () {
    panel.hidden = true;
    frame.src = "about:blank";
  });
  addArtifactButtons(document);

  // Answers still streaming when the page was rendered resume where the page left off.
  list.querySelectorAll('li[data-status="streaming"]').forEach(function (li) {
    var text = li.querySelector(".streaming-text");
    trackStream(li.getAttribute("data-message-id"), li, codePoints(text ? text.textContent : ""));
  });
  connect();
})();
