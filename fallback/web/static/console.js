// Backstop review console: progressive enhancement only (every form works without this file).
(function () {
  "use strict";

  function typing(ev) {
    var el = ev.target;
    return ev.ctrlKey || ev.metaKey || ev.altKey || (el && (el.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) || document.querySelector("dialog[open]");
  }

  function openDialog(dialog, row) {
    var form = dialog.querySelector("form");
    if (row) {
      form.action = form.dataset.action.replace("{id}", row.dataset.id);
      form.elements.version.value = row.dataset.version;
      var q = row.querySelector(".q-link");
      dialog.querySelector(".dialog-query").textContent = "#" + row.dataset.id + "  " + (q ? q.textContent : "");
    }
    dialog.showModal();
    var first = dialog.querySelector("input[type=text]") || dialog.querySelector("[autofocus]");
    if (first) { first.focus(); }
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-close]");
    if (t) { t.closest("dialog").close(); return; }
    var use = ev.target.closest("[data-use-text]");
    if (use) {
      var area = document.getElementById("answer-text");
      area.value = use.dataset.useText;
      area.dispatchEvent(new Event("input"));
      area.focus();
      return;
    }
    var confirmBtn = ev.target.closest("[data-confirm]");
    if (confirmBtn && !window.confirm(confirmBtn.dataset.confirm)) { ev.preventDefault(); }
  });

  document.addEventListener("change", function (ev) {
    var all = ev.target.closest("[data-check-all]");
    if (!all) { return; }
    document.querySelectorAll("input[name='" + all.dataset.checkAll + "']").forEach(function (box) {
      if (!box.disabled) { box.checked = all.checked; }
    });
  });

  // character counters
  document.querySelectorAll("[data-count-for]").forEach(function (out) {
    var area = document.getElementById(out.dataset.countFor);
    if (!area) { return; }
    var update = function () { out.textContent = String(Array.from(area.value).length); };
    area.addEventListener("input", update);
    update();
  });

  // queue: j/k move, Enter open, a approve, e edit, r reject
  var table = document.getElementById("queue");
  if (table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]"));
    var index = rows.length ? 0 : -1;
    var select = function (i, scroll) {
      if (!rows.length) { return; }
      index = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, k) { r.classList.toggle("selected", k === index); });
      if (scroll) { rows[index].scrollIntoView({ block: "nearest" }); }
    };
    select(0, false);
    rows.forEach(function (r, k) {
      r.addEventListener("click", function (ev) { if (!ev.target.closest("a,button")) { select(k, false); } });
      r.addEventListener("dblclick", function () { window.location.href = r.dataset.href; });
    });
    document.addEventListener("keydown", function (ev) {
      if (typing(ev) || index < 0) { return; }
      var row = rows[index];
      var pending = row.dataset.status === "pending";
      switch (ev.key) {
        case "j": select(index + 1, true); break;
        case "k": select(index - 1, true); break;
        case "Enter": window.location.href = row.dataset.href; break;
        case "e": window.location.href = row.dataset.href + "#edit"; break;
        case "a":
          if (!pending) { return; }
          // risky or undrafted questions are approved on their own page, where the text can be checked
          if (row.dataset.draft !== "1" || row.dataset.risk === "1") { window.location.href = row.dataset.href + "#edit"; }
          else { openDialog(document.getElementById("approve-dialog"), row); }
          break;
        case "r": if (pending) { openDialog(document.getElementById("reject-dialog"), row); } break;
        default: return;
      }
      ev.preventDefault();
    });
  }

  // candidate page: a approve as drafted, e edit, r reject
  var approveForm = document.getElementById("approve-form");
  if (approveForm) {
    var area = document.getElementById("answer-text");
    if (window.location.hash === "#edit" && area && !area.disabled) {
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    }
    document.addEventListener("keydown", function (ev) {
      if (typing(ev)) { return; }
      var btn;
      if (ev.key === "a") {
        btn = document.getElementById("approve-draft");
        if (btn && !btn.disabled) { btn.click(); } else if (area && !area.disabled) { area.focus(); }
      } else if (ev.key === "e" && area && !area.disabled) {
        area.focus();
      } else if (ev.key === "r") {
        var reason = document.getElementById("reject-reason");
        if (reason) { reason.focus(); }
      } else { return; }
      ev.preventDefault();
    });
  }
})();
