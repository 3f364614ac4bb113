// The page of links: search, copy buttons and QR codes. The page is whole without it (every
// link and URL is there); this shows the controls that need a script, runs them, and draws
// each link's QR code from its modules (data-qr, render/html/qrcode.py) as its card nears the
// screen, so a page of thousands of links holds only the codes in view as elements.
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

  // data-qr is "SCALE:QUIET:WIDTH:BASE64": one horizontal line of the path a run of dark
  // modules, as segno draws a code.
  function drawQr(figure) {
    var parts = figure.getAttribute("data-qr").split(":");
    var scale = +parts[0], quiet = +parts[1], width = +parts[2], bytes = atob(parts[3]);
    function dark(i) { return (bytes.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1; }
    var d = [];
    for (var y = 0; y < width; y += 1) {
      for (var x = 0; x < width; x += 1) {
        if (!dark(y * width + x)) { continue; }
        var start = x;
        while (x + 1 < width && dark(y * width + x + 1)) { x += 1; }
        d.push("M" + (start + quiet) + " " + (y + quiet + 0.5) + "h" + (x + 1 - start));
      }
    }
    var side = width + 2 * quiet;
    // Markup of numbers only; the HTML parser puts it in SVG's namespace (the page names no
    // address but the links').
    figure.firstElementChild.innerHTML = '<svg width="' + side * scale + '" height="' +
      side * scale + '" viewBox="0 0 ' + side + " " + side + '"><path stroke="#000" d="' +
      d.join("") + '"/></svg>';
  }

  var codes = Array.prototype.slice.call(document.querySelectorAll("figure.qr[data-qr]"));
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          drawQr(entry.target);
        }
      });
    }, { rootMargin: "100% 0px" });
    codes.forEach(function (figure) { observer.observe(figure); });
    // Printed, every code is there, not only those scrolled past.
    window.addEventListener("beforeprint", function () {
      codes.forEach(function (figure) {
        if (!figure.querySelector("svg")) {
          observer.unobserve(figure);
          drawQr(figure);
        }
      });
    });
  } else {
    codes.forEach(drawQr);
  }

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", copy);
  });
  box.hidden = false;
  input.addEventListener("input", filter);
  filter();
})();
