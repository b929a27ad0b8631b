// coldset: the few lines of script the tablet needs. Everything works without it,
// except the board's live updates. This is the only script the pages run: the
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
    // The checklist in one tap: "what the record says" or "all empty / blank / dummy"
    // (each position stays on screen, with any difference from the record shown loud)
    var all = e.target.closest("[data-all], [data-fill-record]");
    if (all) {
      var cform = all.form || document.getElementById(all.dataset.form);
      if (cform) {
        cform.querySelectorAll(".position[data-expected]").forEach(function (pos) {
          var want = all.hasAttribute("data-fill-record") ? pos.dataset.expected
            : all.dataset.all;
          var r = pos.querySelector('input[type=radio][value="' + want + '"]');
          if (r) r.checked = true;
        });
        checklistChanged(cform);
      }
    }
    if (e.target.closest("[data-print]")) window.print();
  });

  // A handheld scanner types into the focused field and presses Enter. In a field
  // with data-scan-next, Enter moves on to the next field instead of submitting. In a
  // form with data-focus-follows, Enter moves to the next field still empty (a PIN's
  // Enter too), and sends the form only when none is left.
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (e.key !== "Enter" || !el.matches || !el.form) return;
    var follows = el.form.hasAttribute("data-focus-follows");
    if (follows && el.matches("input[type=text], input[type=password], input:not([type])")) {
      var nx = firstEmpty(el.form, el);
      if (nx) { e.preventDefault(); nx.focus(); }
      return;
    }
    if (!el.matches("[data-scan-next]")) return;
    e.preventDefault();
    var sel = el.dataset.scanNext, next = null;
    if (sel === "next") {
      var f = Array.prototype.slice.call(el.form.elements).filter(function (x) {
        return x.type !== "hidden" && !x.disabled; });
      next = f[f.indexOf(el) + 1];
    } else { next = document.querySelector(sel); }
    if (next) next.focus();
  });

  // A scan into a field that holds a value (a pre-selected performer, a tag) replaces it.
  document.addEventListener("focusin", function (e) {
    var el = e.target;
    if (el.matches && el.matches("input[data-scan]") && el.value) el.select();
  });

  // The typed fields of a form that are required and still empty, those after ``el``
  // first: where the focus goes next.
  function firstEmpty(form, el) {
    var fields = Array.prototype.slice.call(form.querySelectorAll(
      "input[type=text][required], input[type=password][required], input:not([type])[required]"))
      .filter(function (x) { return !x.disabled && x !== el && !x.value; });
    if (!el) return fields[0] || null;
    var after = fields.filter(function (x) {
      return el.compareDocumentPosition(x) & Node.DOCUMENT_POSITION_FOLLOWING; });
    return after[0] || fields[0] || null;
  }

  // A position marked differently from the record: the position turns red and the
  // banner on top (it stays in view) says which, what was seen, what the record says.
  function checklistChanged(form) {
    var banner = document.getElementById("mismatch"), list = document.getElementById("mismatch-list");
    var items = [], complete = true;
    form.querySelectorAll(".position[data-expected]").forEach(function (pos) {
      var c = pos.querySelector("input[type=radio]:checked");
      if (!c) { complete = false; pos.classList.remove("differs"); return; }
      var differs = c.value !== pos.dataset.expected;
      pos.classList.toggle("differs", differs);
      if (differs) items.push([pos.dataset.label, c.value, pos.dataset.expected]);
    });
    if (banner && list) {
      list.textContent = "";
      items.forEach(function (it) {
        var li = document.createElement("li"), b = document.createElement("strong");
        if (it[1] === "live") li.className = "live";
        b.textContent = it[0] + ": you see " + it[1].toUpperCase();
        li.appendChild(b);
        li.appendChild(document.createTextNode(" \u2014 the record says " + it[2] + "."));
        list.appendChild(li);
      });
      banner.hidden = items.length === 0;
    }
    var barrel = form.querySelector("input[name=barrel_clear]");
    if (complete && barrel && barrel.checked && form.hasAttribute("data-focus-follows")) {
      var nx = firstEmpty(form, null); if (nx) nx.focus();
    }
  }

  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.form && el.matches && (el.matches('input[type=radio][name^="chamber-"]') ||
                                  el.name === "barrel_clear")) checklistChanged(el.form);
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
    liveBoard();
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

  // The board follows the server's live updates (server-sent events, /board/events):
  // when the log grows the server says so and the board part is fetched again. The
  // status line says when the board was last known to be current, and says it loudly
  // when the server cannot be reached; "... ago" times move on by themselves.
  var OFFLINE_AFTER = 40000;    // ms without a word from the server (it pings every 15 s)
  function liveBoard() {
    var board = document.getElementById("board"), status = document.getElementById("board-status");
    if (!board || !status || !board.dataset.eventsUrl || !window.EventSource) return;
    var tz = status.dataset.tz || undefined, stateEl = status.querySelector(".board-state"),
      whenEl = status.querySelector(".board-when");
    var lastOk = Date.now(), renderedAt = Date.now(), state = "live", es = null,
      fetching = false, pending = null;
    function clock(t) {
      var o = { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" };
      try { return new Date(t).toLocaleTimeString("en-GB", Object.assign({ timeZone: tz }, o)); }
      catch (err) { return new Date(t).toLocaleTimeString("en-GB", o); }
    }
    function age(s) {
      s = Math.max(0, Math.floor(s));
      if (s < 60) return s + " s";
      if (s < 3600) return Math.floor(s / 60) + " min";
      if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
      return Math.floor(s / 86400) + " d";
    }
    function show() {
      var now = Date.now();
      status.dataset.state = state;
      stateEl.textContent = state === "live" ? "Live: changes show by themselves."
        : "OFFLINE: the server cannot be reached. This board may be out of date.";
      whenEl.textContent = "Last update " + clock(lastOk) +
        (state === "live" ? "." : " (" + age((now - lastOk) / 1000) + " ago).");
      board.querySelectorAll("[data-age-s]").forEach(function (el) {
        el.textContent = age(Number(el.dataset.ageS) + (now - renderedAt) / 1000) + " ago";
      });
    }
    function ok() { lastOk = Date.now(); state = "live"; show(); }
    function offline() { if (state !== "offline") { state = "offline"; } show(); }
    function load(v) {
      if (fetching) { pending = v; return; }
      fetching = true;
      fetch(board.dataset.fragmentUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (r.redirected) { window.location.reload(); return null; }  // logged out
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html === null) { offline(); return; }
          board.innerHTML = html; board.dataset.version = v; renderedAt = Date.now(); ok();
        })
        .catch(offline)
        .then(function () {
          fetching = false;
          if (pending !== null && pending !== board.dataset.version) {
            var p = pending; pending = null; load(p);
          }
          pending = null;
        });
    }
    function onMessage(e) {
      var v;
      try { v = String(JSON.parse(e.data).version); } catch (err) { return; }
      if (v === board.dataset.version) ok(); else load(v);
    }
    function connect() {
      es = new EventSource(board.dataset.eventsUrl);
      es.addEventListener("board", onMessage);
      es.addEventListener("ping", onMessage);
      es.onerror = function () {  // the browser tries again by itself, unless it gave up
        offline();
        if (es.readyState === EventSource.CLOSED) { es = null; setTimeout(connect, 10000); }
      };
    }
    connect();
    show();
    setInterval(function () {
      if (state === "live" && Date.now() - lastOk > OFFLINE_AFTER) {
        offline();                // silent for too long: the connection is dead
        if (es) { es.close(); es = null; }
        connect();
      } else {
        show();
      }
    }, 5000);
  }
})();
