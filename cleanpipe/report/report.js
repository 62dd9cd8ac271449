// cleanpipe report: search, the before/after view and the rejects filter. Plain DOM, no library;
// every page-derived string goes in through textContent, never as markup.
"use strict";
(function () {
  var errors = document.getElementById("js-errors");
  window.addEventListener("error", function (e) {
    errors.hidden = false;
    errors.textContent += "script error: " + e.message + "\n";
    document.body.setAttribute("data-js-error", "1");
  });
  var DATA = JSON.parse(document.getElementById("cp-data").textContent);
  var views = DATA.views || [];
  var byId = {};
  views.forEach(function (v) { byId[v.id] = v; });
  var COLORS = ["#fde2c4", "#d9e8fb", "#e3f4d7", "#f9d6dc", "#e8defa", "#efe2cf", "#f8d8ee", "#dfe6ec",
                "#fff3b0", "#cdeee9", "#f3d2c1", "#e0e0ff"];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function colorOf(reason) {
    var h = 0;
    for (var i = 0; i < reason.length; i++) h = (h * 31 + reason.charCodeAt(i)) >>> 0;
    return COLORS[h % COLORS.length];
  }
  function norm(s) { return String(s || "").replace(/\s+/g, " ").trim().toLowerCase(); }

  // text with [start, end, title, cls] ranges wrapped in <mark>
  function marked(parent, text, ranges) {
    ranges = ranges.filter(function (r) { return r[0] >= 0 && r[1] <= text.length && r[0] < r[1]; })
      .sort(function (a, b) { return a[0] - b[0]; });
    var at = 0;
    ranges.forEach(function (r) {
      if (r[0] < at) return;
      parent.appendChild(document.createTextNode(text.slice(at, r[0])));
      var m = el("mark", r[3], text.slice(r[0], r[1]));
      m.title = r[2];
      parent.appendChild(m);
      at = r[1];
    });
    parent.appendChild(document.createTextNode(text.slice(at)));
  }
  function occurrences(text, needle, title, cls) {
    var out = [], at = 0;
    if (!needle) return out;
    while ((at = text.indexOf(needle, at)) >= 0) { out.push([at, at + needle.length, title, cls]); at += needle.length; }
    return out;
  }

  function lineMarks(v) {
    var n = v.raw.lines.length, marks = new Array(n);
    function put(lines, mark) {
      if (!lines) return;
      for (var i = lines[0]; i <= lines[1] && i <= n; i++) if (i >= 1) marks[i - 1] = mark;
    }
    v.paragraphs.forEach(function (p) { put(p.lines, { kind: "kept" }); });
    v.comments.forEach(function (c) { put(c.lines, { kind: "comment", id: c.id }); });
    v.spans.forEach(function (s) {
      if (s.reason === "duplicate") put(s.lines, { kind: "comment-dropped", ref: s.ref, reason: "duplicate comment" });
      else put(s.lines, { kind: "removed", reason: s.reason, stage: s.stage });
      if (s.lines && s.lines[0] >= 1 && s.lines[0] <= n && marks[s.lines[0] - 1]) marks[s.lines[0] - 1].first = true;
    });
    v.raw.lines.forEach(function (line, i) { if (!marks[i]) marks[i] = metaMark(v, line); });
    return marks;
  }
  // a raw line that the record keeps as a field of its own: title, byline or date
  function metaMark(v, line) {
    var t = norm(line);
    if (!t) return undefined;
    if (t === norm(v.title)) return { kind: "title" };
    if (v.byline && (t === norm(v.byline) || t === "by " + norm(v.byline))) return { kind: "meta", field: "byline" };
    if ((v.date && t === norm(v.date)) || (v.date_text && t === norm(v.date_text))) return { kind: "meta", field: "date" };
    return undefined;
  }
  function htmlMarks(v) {
    // HTML pages are cut by the extractor on the markup: a visible line counts as kept when the
    // record holds it, otherwise as removed under the strip stage's own reason
    var kept = norm(v.text);
    var commentTexts = v.comments.map(function (c) { return [norm(c.text), c.id]; });
    var dropped = v.dropped.map(function (d) { return [norm(d.text), d.duplicate_of]; });
    var other = v.spans.filter(function (s) { return !s.lines && s.reason !== "duplicate"; });
    var reason = other.length ? other[0].reason : "not kept";
    var stage = other.length ? other[0].stage : "strip";
    return v.raw.lines.map(function (line) {
      var t = norm(line);
      if (t.length > 2 && kept.indexOf(t) >= 0) return { kind: "kept" };
      var meta = metaMark(v, line);
      if (meta) return meta;
      for (var i = 0; i < commentTexts.length; i++)
        if (t.length > 2 && commentTexts[i][0].indexOf(t) >= 0) return { kind: "comment", id: commentTexts[i][1] };
      for (var j = 0; j < dropped.length; j++)
        if (t.length > 2 && dropped[j][0].indexOf(t) >= 0) return { kind: "comment-dropped", ref: dropped[j][1], reason: "duplicate comment" };
      return { kind: "removed", reason: reason, stage: stage };
    });
  }

  function goToComment(viewId, commentId) {
    var target = document.getElementById("c-" + commentId);
    document.querySelectorAll(".comment.target").forEach(function (e) { e.classList.remove("target"); });
    if (target) { target.classList.add("target"); target.scrollIntoView({ block: "center" }); }
  }
  function commentLink(v, ref) {
    // a comment of this page is scrolled to; one of another page (dedup runs across the corpus)
    // opens that page's view when it is in the report
    var a = el("a", "dup-link", ref);
    var own = v.comments.some(function (c) { return c.id === ref; });
    var doc = own ? v.id : String(ref).replace(/-c\d+$/, "");
    a.href = "#doc=" + encodeURIComponent(doc) + "&c=" + encodeURIComponent(ref);
    if (own) a.addEventListener("click", function (e) { e.preventDefault(); goToComment(v.id, ref); });
    else if (!byId[doc]) a.title = "a comment of document " + doc + ", which is not in this report";
    return a;
  }

  function renderBefore(v, pane) {
    pane.appendChild(el("h3", null, v.raw.html ? "Before: the page's visible text" : "Before: the raw input"));
    if (v.raw.status === "gone") { pane.appendChild(el("p", "warn", v.raw.note)); return; }
    if (v.raw.html) pane.appendChild(el("p", "note", "An HTML page: one line per block of visible text. " +
      "Struck lines are those the record does not hold (the extractor cuts the markup, not lines)."));
    var marks = v.raw.html ? htmlMarks(v) : lineMarks(v);
    var olds = v.names.map(function (r) { return r; });
    var reasons = {};
    v.raw.lines.forEach(function (line, i) {
      var m = marks[i] || { kind: line.trim() ? "other" : "blank" };
      var row = el("div", "ln " + m.kind);
      row.setAttribute("data-line", String(i + 1));
      row.appendChild(el("span", "no", v.raw.html ? "" : i + 1));
      var tx = el("span", "tx");
      var ranges = [];
      if (m.kind === "kept" || m.kind === "title") olds.forEach(function (r) {
        ranges = ranges.concat(occurrences(line, r.from, "becomes " + r.to + " (" + r.rule + ")", "old"));
      });
      marked(tx, line, ranges);
      row.appendChild(tx);
      if (m.kind === "removed") {
        row.style.background = colorOf(m.reason);
        row.title = m.stage + ": " + m.reason;
        row.setAttribute("data-reason", m.reason);
        if (m.first) row.appendChild(el("span", "tag", m.reason));
        reasons[m.reason] = true;
      } else if (m.kind === "meta") {
        row.appendChild(el("span", "tag", "kept as " + m.field));
      } else if (m.kind === "comment") {
        row.appendChild(el("span", "tag", "comment " + m.id));
      } else if (m.kind === "comment-dropped") {
        row.setAttribute("data-reason", "duplicate");
        var tag = el("span", "tag", "duplicate of ");
        if (m.ref) tag.appendChild(commentLink(v, m.ref));
        row.appendChild(tag);
      }
      pane.appendChild(row);
    });
    if (v.raw.clipped) pane.appendChild(el("p", "note", "… the raw input is longer; only its start is in this report."));
    return reasons;
  }

  function renderAfter(v, pane) {
    pane.appendChild(el("h3", null, "After: the record"));
    var nameRanges = { text: [], title: [] };
    v.names.forEach(function (r) {
      var title = "was: " + r.from + " (" + r.rule + ")";
      var list = nameRanges[r.field] || (nameRanges[r.field] = []);
      if (r.offsets && r.offsets.length) r.offsets.forEach(function (o) { list.push([o[0], o[1], title, "name"]); });
      else if (r.field === "text") nameRanges.text = nameRanges.text.concat(occurrences(v.text, r.to, title, "name"));
    });
    var body = el("div", "after");
    if (v.title) { var h = el("h4"); marked(h, v.title, nameRanges.title || []); body.appendChild(h); }
    var meta = [v.byline, v.date].filter(Boolean).join(" · ");
    if (meta) body.appendChild(el("p", "note", meta));
    var paras = v.paragraphs.length ? v.paragraphs : [{ start: 0, end: v.text.length }];
    paras.forEach(function (p) {
      var para = el("p");
      var ranges = nameRanges.text.filter(function (r) { return r[0] >= p.start && r[1] <= p.end; })
        .map(function (r) { return [r[0] - p.start, r[1] - p.start, r[2], r[3]]; });
      marked(para, v.text.slice(p.start, p.end), ranges);
      body.appendChild(para);
    });
    if (v.comments.length || v.dropped.length) {
      body.appendChild(el("h4", null, "Comments: " + v.comments.length + " kept, " + v.dropped.length + " dropped"));
      v.comments.forEach(function (c) {
        var box = el("div", "comment");
        box.id = "c-" + c.id;
        box.appendChild(el("div", "meta", c.id + (c.author ? " · " + c.author : "") + (c.date ? " · " + c.date : "") +
          (c.duplicates ? " · absorbed " + c.duplicates + " duplicate(s)" : "")));
        var tx = el("div", "tx");
        marked(tx, c.text, nameRanges["comments/" + c.id] || []);
        box.appendChild(tx);
        body.appendChild(box);
      });
      v.dropped.forEach(function (d) {
        var box = el("div", "comment dropped");
        box.id = "c-" + d.id;
        var meta = el("div", "meta", d.id + " · dropped: duplicate of ");
        if (d.duplicate_of) meta.appendChild(commentLink(v, d.duplicate_of));
        if (d.similarity !== null && d.similarity !== undefined)
          meta.appendChild(document.createTextNode(" (similarity " + d.similarity + ", " + (d.method || "") + ")"));
        box.appendChild(meta);
        box.appendChild(el("div", "tx", d.text));
        body.appendChild(box);
      });
    }
    if (v.names.length) {
      body.appendChild(el("h4", null, "Names changed"));
      var ul = el("ul");
      v.names.forEach(function (r) {
        ul.appendChild(el("li", null, r.from + " → " + r.to + " (" + r.rule + ", " + r.count + "×, in " + r.field + ")"));
      });
      body.appendChild(ul);
    }
    pane.appendChild(body);
  }

  function showDoc(id) {
    var box = document.getElementById("doc-view");
    var v = byId[id];
    box.textContent = "";
    if (!v) { box.appendChild(el("p", "warn", "Document " + id + " is not in this report.")); return; }
    var head = el("div", "view-head");
    head.appendChild(el("h3", null, v.title || "(no title)"));
    head.appendChild(el("div", "note", "id " + v.id + (v.url ? " · " + v.url : "") + " · " + (v.path || "?") +
      (v.record !== null && v.record !== undefined ? " #" + v.record : "")));
    head.appendChild(el("div", "status status-" + v.raw.status, v.raw.note));
    box.appendChild(head);
    var legend = el("div", "legend");
    box.appendChild(legend);
    var panes = el("div", "panes");
    var before = el("div", "pane before"), after = el("div", "pane after-pane");
    panes.appendChild(before);
    panes.appendChild(after);
    box.appendChild(panes);
    var reasons = renderBefore(v, before) || {};
    Object.keys(reasons).sort().forEach(function (r) {
      var s = el("span", null, r);
      s.style.background = colorOf(r);
      legend.appendChild(s);
    });
    if (v.names.length) { var n = el("span", null, "name (before → after)"); n.style.background = "#ffd7a8"; legend.appendChild(n); }
    renderAfter(v, after);
    box.setAttribute("data-doc", v.id);
  }

  function search(q) {
    var list = document.getElementById("doc-results");
    list.textContent = "";
    q = q.trim().toLowerCase();
    var found = views.filter(function (v) {
      return !q || [v.id, v.url, v.path, v.title].some(function (f) { return f && String(f).toLowerCase().indexOf(q) >= 0; });
    });
    found.slice(0, 50).forEach(function (v) {
      var li = el("li");
      var a = el("a", null, v.title || v.url || v.path || v.id);
      a.href = "#doc=" + encodeURIComponent(v.id);
      li.appendChild(a);
      li.appendChild(el("span", "sub", (v.url || v.path || "") + " · " + v.id));
      list.appendChild(li);
    });
    var more = found.length - 50;
    list.appendChild(el("li", "note", found.length ? (more > 0 ? "… and " + more + " more: narrow the search" : found.length + " found")
      : "No document in this report matches."));
  }

  function route() {
    var m = /^#doc=([^&]+)(?:&c=(.+))?$/.exec(location.hash);
    if (m) {
      showDoc(decodeURIComponent(m[1]));
      document.getElementById("before-after").scrollIntoView();
      if (m[2]) goToComment(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
    }
  }

  var input = document.getElementById("doc-search");
  if (input) input.addEventListener("input", function () { search(input.value); });
  search("");
  window.addEventListener("hashchange", route);
  route();

  var filter = document.getElementById("reject-filter"), text = document.getElementById("reject-text");
  function filterRejects() {
    var r = filter.value, t = text.value.trim().toLowerCase();
    document.querySelectorAll("#reject-table tbody tr").forEach(function (tr) {
      var ok = (!r || tr.getAttribute("data-reason") === r) && (!t || tr.textContent.toLowerCase().indexOf(t) >= 0);
      tr.hidden = !ok;
    });
  }
  if (filter) {
    filter.addEventListener("change", filterRejects);
    text.addEventListener("input", filterRejects);
    // report.html#reason=R opens the table filtered, so a reason can be linked to
    var r = /^#reason=(.+)$/.exec(location.hash);
    if (r) { filter.value = decodeURIComponent(r[1]); filterRejects(); document.getElementById("rejects").scrollIntoView(); }
  }
  document.body.setAttribute("data-ready", "1");
  // time from navigation to a usable page, for measuring large reports
  document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
