// Search of the static site, with no server: sharded JSON written by toasoan (search/index.json lists the
// shards, newest first; each shard holds [path, title, day, folded words] per article). Queries are
// folded like core.text.fold (no diacritics, đ -> d, lower case), so "dang bo" finds "Đảng bộ".
(function () {
  "use strict";
  var MAX = 50;
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase()
      .replace(/[^0-9a-z]+/g, " ").trim();
  }
  function matches(words, text) {
    var hay = " " + text + " ";
    for (var i = 0; i < words.length; i++) {
      var w = words[i];
      var last = i === words.length - 1;
      if (hay.indexOf(" " + w + (last ? "" : " ")) < 0) return false;
    }
    return true;
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("q");
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    var more = document.getElementById("search-more");
    var q = new URLSearchParams(window.location.search).get("q") || "";
    input.value = q;
    var words = fold(q).split(" ").filter(Boolean);
    if (!words.length) return;
    var phrase = words.join(" ");
    var shards = [], next = 0, found = 0;
    function show(row) {
      var li = document.createElement("li");
      var div = document.createElement("div");
      var h = document.createElement("h3");
      var a = document.createElement("a");
      a.href = row[0];
      a.textContent = row[1];
      h.appendChild(a);
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = row[2];
      div.appendChild(h);
      div.appendChild(meta);
      li.appendChild(div);
      list.appendChild(li);
    }
    function run() {
      more.hidden = true;
      status.textContent = "Đang tìm…";
      var batch = [];
      function step() {
        if (next >= shards.length || batch.length >= MAX) return Promise.resolve();
        return get("search/" + shards[next++] + ".json").then(function (rows) {
          var exact = [], loose = [];
          rows.forEach(function (row) {
            if (!matches(words, row[3])) return;
            ((" " + row[3] + " ").indexOf(" " + phrase + " ") >= 0 ? exact : loose).push(row);
          });
          batch = batch.concat(exact, loose);
          return step();
        });
      }
      return step().then(function () {
        batch.forEach(show);
        found += batch.length;
        status.textContent = found ? "Tìm thấy " + found + " bài" + (next < shards.length ? " (còn bài cũ hơn)." : ".")
          : "Không tìm thấy bài nào cho “" + q + "”.";
        more.hidden = next >= shards.length;
      });
    }
    more.addEventListener("click", function () { run(); });
    get("search/index.json").then(function (index) {
      shards = index.shards;
      return run();
    }).catch(function () { status.textContent = "Không tải được chỉ mục tìm kiếm."; });
  });
})();
