// Side-by-side comparison: one socket per column, each answer streamed and resumed
// like in a conversation, rendered by the server when done.
(function () {
  "use strict";
  document.querySelectorAll(".compare-column").forEach(function (column) {
    var socket = null;
    var attempt = 0;
    var received = 0;
    var text = column.querySelector(".streaming-text");
    if (text) { for (var _ of text.textContent) { received += 1; } }

    function answerId() { return column.getAttribute("data-answer-id"); }

    function send(payload) { socket.send(JSON.stringify(payload)); }

    function finish(id) {
      fetch(column.getAttribute("data-message-url") + id + "/", {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          column.querySelector(".bubble").innerHTML = data.html;  // sanitised on the server
          column.querySelector(".meta").textContent = data.meta;
          column.setAttribute("data-status", data.status);
        });
    }

    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + column.getAttribute("data-socket-url"));
      socket.addEventListener("message", function (message) {
        var event = JSON.parse(message.data);
        if (event.type === "ready") {
          attempt = 0;
          if (!answerId()) {
            send({type: "regenerate", message_id: Number(column.getAttribute("data-question-id"))});
          } else if (column.getAttribute("data-status") === "streaming") {
            send({type: "resume", message_id: Number(answerId()), offset: received});
          }
        } else if (event.type === "message.started") {
          column.setAttribute("data-answer-id", event.message_id);
          column.setAttribute("data-status", "streaming");
        } else if (event.type === "message.delta" && String(event.message_id) === answerId()) {
          if (event.offset > received) { return; }
          var fresh = Array.from(event.text).slice(received - event.offset).join("");
          if (fresh) {
            var target = column.querySelector(".streaming-text");
            if (target) { target.appendChild(document.createTextNode(fresh)); }
            received += Array.from(fresh).length;
          }
        } else if (event.type === "message.done" && String(event.message_id) === answerId()) {
          finish(event.message_id);
        }
      });
      socket.addEventListener("close", function () {
        attempt += 1;
        setTimeout(connect, Math.min(10000, 300 * Math.pow(2, attempt)));
      });
    }
    connect();
  });
})();
