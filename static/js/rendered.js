// Behaviour for rendered model output (HTML from chatapp/rendering): copy buttons
// on code blocks and click-to-load images. Event delegation on the document, so
// it also covers HTML inserted later while an answer streams. No inline handlers (CSP).
(function () {
  "use strict";

  var COPIED_MS = 1500;

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function showCopied(button) {
    if (!button.hasAttribute("data-label")) {
      button.setAttribute("data-label", button.textContent);
    }
    button.textContent = button.getAttribute("data-copied-label") || "Copied";
    button.classList.add("is-copied");
    clearTimeout(button._copiedTimer);
    button._copiedTimer = setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
      button.classList.remove("is-copied");
    }, COPIED_MS);
  }

  function copyCode(button) {
    var block = button.closest(".md-code");
    var code = block && block.querySelector("pre code");
    if (!code) { return; }
    var text = code.textContent;
    // The clipboard API needs a secure context (HTTPS or localhost); elsewhere
    // select the code so the reader can copy it with the keyboard.
    if (!navigator.clipboard || !window.isSecureContext) {
      selectText(code);
      return;
    }
    navigator.clipboard.writeText(text).then(
      function () { showCopied(button); },
      function () { selectText(code); }
    );
  }

  function isWebUrl(value) {
    return /^https?:\/\//i.test(value);
  }

  // If the image can't be shown (gone, or refused by the Content-Security-Policy),
  // leave a link the reader can open in a new tab instead.
  function fallbackLink(img, src) {
    var link = document.createElement("a");
    link.href = src;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.className = "md-image-link";
    link.textContent = img.alt ? img.alt + " (" + src + ")" : src;
    img.replaceWith(link);
  }

  function revealImage(button) {
    var src = (button.getAttribute("data-src") || "").trim();
    if (!isWebUrl(src)) { return; }
    var img = document.createElement("img");
    img.className = "md-img";
    img.alt = button.getAttribute("data-alt") || "";
    img.loading = "lazy";
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    img.addEventListener("error", function () { fallbackLink(img, src); }, { once: true });
    img.src = src;
    button.replaceWith(img);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var copy = target.closest("button[data-copy]");
    if (copy) {
      event.preventDefault();
      copyCode(copy);
      return;
    }
    var image = target.closest("button.md-image");
    if (image) {
      event.preventDefault();
      revealImage(image);
    }
  });
})();
