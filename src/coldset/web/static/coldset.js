// coldset: the few lines of script the tablet needs. Everything works without it,
// except the board's live refresh. This is the only script the pages run: the
// Content-Security-Policy allows no inline script and no inline event handler.
// It is loaded in <head> without defer, so the remembered day/night choice is set
// before the first paint; what needs the page's elements waits for DOMContentLoaded.
(function () {
  "use strict";
  var root = document.documentElement;

  try {
    var theme = localStorage.getItem("coldset-theme");
    if (theme) root.dataset.theme = theme;
  } catch (err) {}

  // Day / night toggle (remembered); the system setting is the default.
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-theme-toggle]");
    if (t) {
      var dark = root.dataset.theme ? root.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
      try { localStorage.setItem("coldset-theme", root.dataset.theme); } catch (err) {}
    }
    var fill = e.target.closest("[data-fill]");
    if (fill) {
      var input = document.querySelector(fill.dataset.fill);
      if (input) { input.value = fill.dataset.value; var nx = input.dataset.scanNext;
        var n = nx && document.querySelector(nx); (n || input).focus(); }
    }
    // "Back to the form": the browser's own back keeps what was typed (and the
    // form's idempotency key, so sending it again cannot record it twice)
    if (e.target.closest("[data-back]") && window.history.length > 1) {
      e.preventDefault();
      window.history.back();
    }
    if (e.target.closest("[data-all-empty]")) {
      document.querySelectorAll('input[type=radio][value="empty"][name^="chamber-"]')
        .forEach(function (r) { r.checked = true; });
    }
    if (e.target.closest("[data-print]")) window.print();
  });

  // A handheld scanner types into the focused field and presses Enter. In a field
  // with data-scan-next, Enter moves on to the next field instead of submitting.
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (e.key !== "Enter" || !el.matches || !el.matches("[data-scan-next]")) return;
    e.preventDefault();
    var sel = el.dataset.scanNext, next = null;
    if (sel === "next") {
      var f = Array.prototype.slice.call(el.form.elements).filter(function (x) {
        return x.type !== "hidden" && !x.disabled; });
      next = f[f.indexOf(el) + 1];
    } else { next = document.querySelector(sel); }
    if (next) next.focus();
  });

  // One tap, one submission: a double tap with gloves must not send twice.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
    setTimeout(function () { form.querySelectorAll("button[type=submit]")
      .forEach(function (b) { b.disabled = true; }); }, 0);
  });

  // Back on a page the browser kept (back button): its forms can be sent again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]")
        .forEach(function (b) { b.disabled = false; });
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }

  function onReady() {
    fillAgain();
    counters();
    refreshBoard();
  }

  // A text box with a limit says how much is left while you type (data-count: the
  // element that shows "n / limit characters").
  function counters() {
    document.querySelectorAll("textarea[data-count]").forEach(function (box) {
      var out = document.getElementById(box.dataset.count);
      var max = parseInt(box.getAttribute("maxlength"), 10);
      if (!out || !max) return;
      var show = function () {
        var n = box.value.length;
        out.textContent = n.toLocaleString("en-US") + " / " + max.toLocaleString("en-US") +
          " characters" + (n >= max ? " (the limit)" : "");
        out.className = n >= max * 0.9 ? "warn" : "muted";
      };
      box.addEventListener("input", show);
      show();
    });
  }

  // A form the server rejected comes back filled in as it was sent (never a PIN): the
  // page carries the values; fill the form that sends that command, and show it.
  function fillAgain() {
    var again = document.getElementById("coldset-again");
    if (again) {
      try {
        var a = JSON.parse(again.textContent);
        var form = document.querySelector('form[action$="/do/' + a.command + '"]');
        if (form) {
          Object.keys(a.values).forEach(function (name) {
            var vals = a.values[name], els = form.querySelectorAll('[name="' + name + '"]');
            els.forEach(function (el, i) {
              if (el.type === "password" || el.type === "hidden") return;
              if (el.type === "checkbox" || el.type === "radio") {
                el.checked = vals.indexOf(el.value) >= 0;
              } else if (el.multiple) {
                Array.prototype.forEach.call(el.options, function (o) {
                  o.selected = vals.indexOf(o.value) >= 0; });
              } else if (i < vals.length) {
                el.value = vals[i];
              }
            });
          });
          form.classList.add("again");
          if (a.why) {
            var note = document.createElement("p");
            note.className = "error"; note.setAttribute("role", "alert");
            note.textContent = a.why + " Nothing was done: fix it and send again.";
            form.insertBefore(note, form.firstChild);
          }
          var d = form.closest("details"); if (d) d.open = true;
          form.scrollIntoView({ block: "start" });
        }
      } catch (err) {}
    }
  }

  // The board refreshes itself when the log grows (polls every 1.5 s).
  function refreshBoard() {
    var board = document.getElementById("board");
    if (board && board.dataset.versionUrl) {
      var busy = false;
      setInterval(function () {
        if (busy || document.hidden) return;
        busy = true;
        fetch(board.dataset.versionUrl, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (v) {
            if (!v || String(v.version) === board.dataset.version) return null;
            return fetch(board.dataset.fragmentUrl, { credentials: "same-origin", cache: "no-store" })
              .then(function (r) { return r.ok ? r.text() : null; })
              .then(function (html) {
                if (html === null) return;
                board.innerHTML = html; board.dataset.version = String(v.version);
              });
          })
          .catch(function () {})
          .then(function () { busy = false; });
      }, 1500);
    }
  }
})();
