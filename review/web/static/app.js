// Live preview of the body editor (edit page). The server sanitizes: what is shown is what would be
// saved. Without JavaScript, the "Xem trước" button does the same with a page reload.
(function () {
  "use strict";
  var area = document.getElementById("body_html");
  var out = document.getElementById("live-preview");
  if (!area || !out || !window.fetch || !window.FormData) return;
  var form = area.form, timer = null, seq = 0;
  function refresh() {
    var mine = ++seq;
    fetch(area.getAttribute("data-preview"), { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (mine === seq) out.innerHTML = html; })
      .catch(function () { /* keep the last preview; saving still works */ });
  }
  function mirror() {  // title, sa-pô and byline are plain text: copied as text, never as markup
    var marks = document.querySelectorAll("[data-mirror]");
    for (var i = 0; i < marks.length; i++) {
      var field = document.getElementById(marks[i].getAttribute("data-mirror"));
      if (field) marks[i].textContent = field.value;
    }
  }
  function later() { mirror(); clearTimeout(timer); timer = setTimeout(refresh, 400); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();

// "Sao chép" beside each part of a manual publication package: copies the field's text.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (ev) {
      var field = document.getElementById(ev.currentTarget.getAttribute("data-copy"));
      if (!field) return;
      field.select();
      // The selection stays for Ctrl+C when the clipboard is not ours to write (plain http, a policy).
      if (navigator.clipboard) navigator.clipboard.writeText(field.value).catch(function () {});
      else document.execCommand("copy");
    });
  }
})();
