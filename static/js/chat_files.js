// Files attached to a conversation: upload (several at once), then follow each one's
// ingestion through contract 6 until it is ready (or failed); remove.
(function () {
  "use strict";
  var list = document.getElementById("conversation-files");
  var input = document.getElementById("attach-input");
  if (!list || !input) { return; }
  var maxBytes = Number(list.getAttribute("data-max-bytes")) || 0;

  function label(name) {
    var node = document.getElementById("file-labels").content.querySelector('[data-label="' + name + '"]');
    return node ? node.textContent : name;
  }

  function csrfToken() {
    var field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  function chip(name) {
    var li = document.createElement("li");
    li.className = "file-chip";
    li.setAttribute("data-testid", "conversation-file");
    li.setAttribute("data-status", "uploading");
    var title = document.createElement("span");
    title.className = "file-name";
    title.textContent = name;
    var status = document.createElement("span");
    status.className = "file-status small muted";
    status.setAttribute("data-testid", "file-status");
    status.textContent = label("uploading");
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link danger";
    remove.setAttribute("data-testid", "file-remove");
    remove.setAttribute("aria-label", label("remove"));
    remove.textContent = "×";
    remove.hidden = true;
    li.append(title, " ", status, " ", bar, " ", remove);
    list.appendChild(li);
    list.hidden = false;
    return li;
  }

  function show(li, doc) {
    li.setAttribute("data-document-id", doc.id);
    li.setAttribute("data-status", doc.status);
    li.querySelector(".file-name").textContent = doc.title;
    li.querySelector(".file-status").textContent =
      label(doc.status) + (doc.status === "failed" && doc.error ? " · " + (doc.error_text || doc.error) : "");
    var bar = li.querySelector("progress");
    bar.value = doc.progress || 0;
    bar.hidden = doc.status === "ready" || doc.status === "failed";
    if (doc.status_url) { li.setAttribute("data-status-url", doc.status_url); }
    if (doc.remove_url) {
      var remove = li.querySelector("[data-testid=file-remove]");
      remove.setAttribute("data-remove-url", doc.remove_url);
      remove.hidden = false;
    }
  }

  function fail(li, message) {
    li.setAttribute("data-status", "failed");
    li.querySelector(".file-status").textContent = label("failed") + " · " + message;
    li.querySelector("progress").hidden = true;
    var remove = li.querySelector("[data-testid=file-remove]");
    remove.hidden = false;  // without a remove URL it just takes the chip away
  }

  function follow(li) {
    var url = li.getAttribute("data-status-url");
    var status = li.getAttribute("data-status");
    if (!url || status === "ready" || status === "failed") { return; }
    setTimeout(function () {
      fetch(url, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (doc) { if (doc && li.isConnected) { show(li, doc); } })
        .catch(function () {})
        .then(function () { if (li.isConnected) { follow(li); } });
    }, 700);
  }

  function upload(file) {
    var li = chip(file.name);
    if (maxBytes && file.size > maxBytes) { fail(li, label("too-large")); return; }
    var body = new FormData();
    body.append("file", file);
    fetch(list.getAttribute("data-upload-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken()},
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { fail(li, (data.error && data.error.message) || label("upload-failed")); return; }
        var twin = list.querySelector('li[data-document-id="' + data.id + '"]');
        if (twin && twin !== li) { li.remove(); return; }  // attached already
        show(li, data);
        follow(li);
      });
    }).catch(function () { fail(li, label("upload-failed")); });
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, upload);
    input.value = "";
  });

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-testid=file-remove]");
    if (!button) { return; }
    var li = button.closest("li");
    var url = button.getAttribute("data-remove-url");
    if (!url) { li.remove(); list.hidden = !list.children.length; return; }
    fetch(url, {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken()}})
      .then(function (response) {
        if (response.ok || response.status === 404) {
          li.remove();
          list.hidden = !list.children.length;
        }
      });
  });

  list.querySelectorAll("li[data-status-url]").forEach(follow);
})();
