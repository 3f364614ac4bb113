// The page of links: search and copy buttons. The page is whole without it (every link, URL
// and QR code is there); this only shows the controls that need a script, and runs them.
"use strict";
(function () {
  var links = Array.prototype.slice.call(document.querySelectorAll("article.link"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.channel"));
  var box = document.getElementById("search");
  var input = document.getElementById("q");
  var count = document.getElementById("count");
  var texts = links.map(function (article) {
    return article.textContent.toLowerCase();
  });

  function filter() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    links.forEach(function (article, i) {
      var match = words.every(function (word) { return texts[i].indexOf(word) !== -1; });
      article.classList.toggle("hidden", !match);
      if (match) { shown += 1; }
    });
    sections.forEach(function (section) {
      section.classList.toggle("hidden", !section.querySelector("article.link:not(.hidden)"));
    });
    count.textContent = words.length ? shown + " of " + links.length + " links" : "";
  }

  function copied(button, text) {
    button.dataset.copied = text;
    button.textContent = "Copied";
    button.classList.add("done");
    window.setTimeout(function () {
      button.textContent = "Copy";
      button.classList.remove("done");
    }, 1500);
  }

  function fallback(button, source, text) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      if (document.execCommand("copy")) { copied(button, text); return; }
    } catch (e) { /* the URL stays selected: the user copies it */ }
    button.textContent = "Selected";
  }

  function copy(event) {
    var button = event.currentTarget;
    var source = button.parentNode.querySelector("a");
    var text = source.textContent;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, text); },
        function () { fallback(button, source, text); }
      );
    } else {
      fallback(button, source, text);
    }
  }

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", copy);
  });
  box.hidden = false;
  input.addEventListener("input", filter);
  filter();
})();
