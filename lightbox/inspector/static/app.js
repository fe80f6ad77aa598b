// Lightbox inspector: keyboard shortcuts and small conveniences (no inline script: CSP).
// a accept · r reject · c changes required · 1-9 pick a reason or release · Enter submit
// Esc cancel · f full image · n claim next (queue page).
(function () {
  "use strict";
  var submitting = false;

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !/^(radio|checkbox|submit|button)$/.test(el.type));
  }
  function openPanel(id) {
    document.querySelectorAll(".panel").forEach(function (p) { p.hidden = p.id !== id; });
    var panel = document.getElementById(id);
    if (panel) {
      var first = panel.querySelector("input:checked, input[type=radio], input[type=checkbox]");
      if (first) first.focus();
    }
    return panel;
  }
  function openPanelEl() {
    return Array.prototype.find.call(document.querySelectorAll(".panel"), function (p) { return !p.hidden; });
  }
  function submit(form) {
    if (!form || submitting) return;
    if (!form.reportValidity()) return;
    submitting = true;
    document.body.classList.add("busy");
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  document.querySelectorAll("[data-panel]").forEach(function (btn) {
    btn.addEventListener("click", function () { openPanel(btn.getAttribute("data-panel")); });
  });
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () { submitting = true; });
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) {
      if (ev.key === "Enter" && ev.target.tagName === "TEXTAREA") submit(ev.target.form);
      return;
    }
    var panel = openPanelEl();
    if (ev.key === "Escape" && panel) { panel.hidden = true; ev.preventDefault(); return; }
    if (typing(ev.target)) return;
    var mine = document.querySelector(".photo-layout[data-mine=yes]");
    var key = ev.key;
    if (mine && key === "a" && !panel) { ev.preventDefault(); submit(document.getElementById("form-accept")); return; }
    if (mine && key === "r") { ev.preventDefault(); openPanel("panel-reject"); return; }
    if (mine && key === "c") { ev.preventDefault(); openPanel("panel-changes"); return; }
    if (panel && /^[1-9]$/.test(key)) {
      var inputs = panel.querySelectorAll("input[type=radio], input[type=checkbox]");
      var input = inputs[parseInt(key, 10) - 1];
      if (input) { ev.preventDefault(); input.type === "radio" ? (input.checked = true) : (input.checked = !input.checked); input.focus(); }
      return;
    }
    if (panel && key === "Enter") { ev.preventDefault(); submit(panel); return; }
    if (key === "f") {
      var full = document.getElementById("full-link");
      if (full) { ev.preventDefault(); window.open(full.href, "_blank", "noopener"); }
      return;
    }
    if (key === "n") {
      var next = document.getElementById("claim-next");
      if (next) { ev.preventDefault(); submit(next.form); }
    }
  });
})();
