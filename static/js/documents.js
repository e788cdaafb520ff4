// Upload with a progress bar per file, then follow each document's ingestion.
(function () {
  "use strict";
  var root = document.getElementById("documents");
  if (!root) { return; }
  var api = root.getAttribute("data-api");
  var list = document.getElementById("uploads");
  var input = document.getElementById("file-input");
  var zone = document.getElementById("dropzone");

  function label(name) {
    var node = document.getElementById("upload-labels").content.querySelector('[data-label="' + name + '"]');
    return node ? node.textContent : name;
  }

  function csrfToken() {
    var match = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return match ? match.value : "";
  }

  function acl() {
    var share = document.getElementById("share").value;
    if (share === "organization") { return JSON.stringify({org_wide: true}); }
    if (share === "department") {
      return JSON.stringify({departments: [root.getAttribute("data-department")], include_subdepartments: true});
    }
    return "";
  }

  function row(file) {
    var li = document.createElement("li");
    li.setAttribute("data-testid", "upload");
    var name = document.createElement("span");
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var status = document.createElement("span");
    status.className = "muted small";
    status.setAttribute("data-testid", "upload-status");
    status.textContent = label("uploading");
    li.append(name, bar, status);
    list.appendChild(li);
    return {bar: bar, status: status};
  }

  function follow(id, view) {
    fetch(api + "/" + id, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (doc) {
        // The first half of the bar is the upload, the second the ingestion.
        view.bar.value = 50 + Math.round((doc.progress || 0) / 2);
        view.status.textContent = label(doc.status) + (doc.stage ? " · " + doc.stage : "") +
          (doc.error ? " · " + (doc.error_text || doc.error) : "");
        if (doc.status === "ready" || doc.status === "failed") {
          view.bar.value = doc.status === "ready" ? 100 : view.bar.value;
          return;
        }
        setTimeout(function () { follow(id, view); }, 700);
      });
  }

  function upload(file) {
    var view = row(file);
    var maxBytes = parseInt(root.getAttribute("data-max-bytes"), 10) || 0;
    if (maxBytes && file.size > maxBytes) {
      // Refused here already, so nothing is sent; the server would refuse it the same way.
      view.status.textContent = label("failed") + " · " + label("too-large");
      view.status.classList.add("danger");
      return;
    }
    var form = new FormData();
    form.append("file", file);
    var rules = acl();
    if (rules) { form.append("acl", rules); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", api);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { view.bar.value = Math.round(event.loaded / event.total * 50); }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 201) {
        view.bar.value = 50;
        view.status.textContent = label(body.status);
        follow(body.id, view);
      } else {
        view.status.textContent = label("failed") + " · " + ((body.error && body.error.message) || xhr.status);
        view.status.classList.add("danger");
      }
    });
    xhr.send(form);
  }

  input.addEventListener("change", function () {
    Array.from(input.files).forEach(upload);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    Array.from(event.dataTransfer.files).forEach(upload);
  });
})();
