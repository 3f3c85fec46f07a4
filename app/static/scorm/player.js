// HocSo SCORM player: hosts the SCO in an iframe on this origin and exposes window.API (SCORM 1.2) or
// window.API_1484_11 (SCORM 2004) through scorm-again. The saved state comes from the runtime endpoint;
// commits go back to it on Commit, every 30 s, and on page hide (sendBeacon), each with a sequence number
// so the server applies each commit once and never an older one after a newer.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("hocso-scorm").textContent);
  var statusLine = document.getElementById("status");
  var seq = 0;
  var api = null;
  var closed = false;  // the server refused this session (ended, or the lesson was opened elsewhere)

  function show(text) { if (!closed) { statusLine.textContent = text; } }

  // 409: nothing more this page sends is kept, so the learner must not read "saved" from it again.
  function showClosed(problemText) {
    var detail = "";
    try { detail = JSON.parse(problemText).detail || ""; } catch (e) { /* the label says it anyway */ }
    show(detail || config.labels.closed);
    closed = true;
    statusLine.className = "closed";
  }

  function payload(values, terminate) {
    seq += 1;
    return { seq: seq, values: values, terminate: !!terminate, token: config.token };
  }

  function onResponse(xhr) {
    if (xhr.status >= 200 && xhr.status < 300) {
      try {
        var answer = JSON.parse(xhr.responseText);
        // The server kept the other values; what it refused goes to the console for the content's author.
        (answer.refused || []).forEach(function (e) { console.warn("HocSo: " + e.field + ": " + e.message); });
        show(config.labels[answer.course_completed ? "course_completed"
          : answer.lesson_completed ? "completed" : "saved"]);
      } catch (e) { /* the status line is a courtesy only */ }
      return { result: "true", errorCode: 0 };
    }
    if (xhr.status === 409) { showClosed(xhr.responseText); } else { show(config.labels.failed); }
    return { result: "false", errorCode: 101 };
  }

  function start(state) {
    seq = state.last_seq;
    var settings = {
      autocommit: true,
      autocommitSeconds: 30,
      lmsCommitUrl: state.commit_url,
      dataCommitFormat: "flattened",
      xhrHeaders: { "X-Scorm-Token": config.token },
      requestHandler: function (values, metadata) {
        return payload(values, metadata && metadata.isTerminateCommit);
      },
      xhrResponseHandler: onResponse,
      logLevel: 4
    };
    var is12 = state.scorm_version === "1.2";
    api = is12 ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
    api.loadFromFlattenedJSON(state.cmi, "");
    if (is12) { window.API = api; } else { window.API_1484_11 = api; }
    document.getElementById("sco").src = config.content_url;
    show(config.labels.ready);
  }

  // Leaving the page (tab closed, app switched): send what the SCO set since its last commit.
  function flush() {
    if (!api || closed || !navigator.sendBeacon || api.isTerminated()) { return; }
    try {
      var values = api.getFlattenedCMI();
      var body = JSON.stringify(payload(values, false));
      navigator.sendBeacon(config.commit_url, new Blob([body], { type: "text/plain;charset=UTF-8" }));
    } catch (e) { /* nothing more can be done while the page goes away */ }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  window.addEventListener("pagehide", flush);

  fetch(config.state_url, { headers: { "X-Scorm-Token": config.token }, credentials: "omit" })
    .then(function (response) {
      if (response.status === 409) {
        return response.text().then(function (text) { showClosed(text); return null; });
      }
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    })
    .then(function (state) { if (state) { start(state); } })
    .catch(function () { show(config.labels.failed); });
})();
