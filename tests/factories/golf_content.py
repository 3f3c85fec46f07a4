"""The content of the golf-shaped SCORM packages (`tests/factories/golf_packages.py`), written for HocSo's
tests: a folder per topic with its pages and images, and in `shared/` the launch page every SCO opens, its
scripts, style, background and the assessment.

`shared/launchpage.html?content=<topic>` finds the runtime by walking up `window.parent`, resumes at the saved
location (`cmi.location` / `cmi.core.lesson_location`: the page index), shows the topic's pages in a nested
iframe (two frames below the player's window) with previous/next, marks the SCO completed on the last page and
terminates when the learner leaves. Content pages reach the runtime too, from their nested frame; the assessment
(`content=assessment`) records each answer as an interaction and the score, commits, and asks the launch page
to terminate.
"""

import io
import json

from PIL import Image  # Pillow comes with fpdf2, which certificates need

from tests.factories.scorm_packages import png

TOPICS = [  # (content=…, folder, item title, pages as (file, heading, text))
    ("playing", "Playing", "Playing the Game", [
        ("Playing.html", "Playing the Game", "Golf is played over 18 holes; the fewest strokes win."),
        ("Par.html", "Par", "Par is the number of strokes a good player needs for a hole."),
        ("OtherScoring.html", "Other Scoring", "Stableford and match play count holes won, not strokes.")]),
    ("etiquette", "Etiquette", "Etiquette", [
        ("Course.html", "Caring for the Course", "Repair pitch marks and rake the bunkers you played from."),
        ("Distracting.html", "Quiet Please", "Stand still and keep quiet while another player swings.")]),
    ("handicapping", "Handicapping", "Handicapping", [
        ("Overview.html", "Handicaps", "A handicap lets players of different skill compete fairly."),
        ("CalculatingHandicap.html", "Calculating", "Recent rounds, adjusted for the course, give the index.")]),
    ("havingfun", "HavingFun", "Having Fun", [
        ("HowToHaveFun.html", "Having Fun", "Play with friends, from tees that suit your game."),
        ("MakeFriends.html", "Making Friends", "Clubs and leagues welcome new players of any level.")]),
]
QUESTIONS = [  # the assessment: (interaction id, question, choices, correct choice)
    ("par_meaning", "What is par?", {"a": "A club", "b": "The expected strokes for a hole", "c": "A penalty"}, "b"),
    ("fewest_strokes", "Who wins a stroke-play round?", {"a": "The fewest strokes", "b": "The most"}, "a"),
    ("bunker_care", "After playing from a bunker you…", {"a": "Leave it", "b": "Rake it"}, "b"),
    ("handicap_use", "A handicap lets players…", {"a": "Skip holes", "b": "Of any skill compete"}, "b"),
]
SCORM_FUNCTIONS = r"""// The runtime as every SCO finds it: up the window.parent chain (2004 API_1484_11, 1.2 API).
function scormFindAPI(win) {
  for (var depth = 0; win && depth < 10; depth++) {
    if (win.API_1484_11) { return { api: win.API_1484_11, v12: false, depth: depth }; }
    if (win.API) { return { api: win.API, v12: true, depth: depth }; }
    if (win.parent === win) { break; }
    win = win.parent;
  }
  return null;
}
var scorm = { found: null, finished: false, started: new Date() };
function scormCall(n12, n2004) {
  var f = scorm.found, args = [].slice.call(arguments, 2);
  return String(f.api[f.v12 ? n12 : n2004].apply(f.api, args));
}
function scormGet(e12, e2004) { return scormCall("LMSGetValue", "GetValue", scorm.found.v12 ? e12 : e2004); }
function scormSet(e12, e2004, value) {
  return scormCall("LMSSetValue", "SetValue", scorm.found.v12 ? e12 : e2004, value);
}
function scormInitialize() {
  scorm.found = scormFindAPI(window);
  if (!scorm.found || scormCall("LMSInitialize", "Initialize", "") !== "true") { return false; }
  var status = scormGet("cmi.core.lesson_status", "cmi.completion_status");
  if (status === "not attempted" || status === "unknown") {
    scormSet("cmi.core.lesson_status", "cmi.completion_status", "incomplete");
  }
  return true;
}
function scormComplete() {
  scormSet("cmi.core.lesson_status", "cmi.completion_status", "completed");
  return scormCall("LMSCommit", "Commit", "");
}
function sessionTime() {
  var s = Math.round((new Date() - scorm.started) / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
  function two(n) { return (n < 10 ? "0" : "") + n; }
  return scorm.found.v12 ? two(h) + ":" + two(m) + ":" + two(s % 60) : "PT" + s + "S";
}
// Called on the last page, by the assessment, and when the learner leaves (pagehide), as the originals do.
function scormFinish() {
  if (!scorm.found || scorm.finished) { return "false"; }
  scorm.finished = true;
  var status = scormGet("cmi.core.lesson_status", "cmi.completion_status");  // content pages may have set it
  var done = status === "completed" || status === "passed" || status === "failed";
  scormSet("cmi.core.exit", "cmi.exit", done ? (scorm.found.v12 ? "" : "normal") : "suspend");
  scormSet("cmi.core.session_time", "cmi.session_time", sessionTime());
  return scormCall("LMSFinish", "Terminate", "");
}
"""

CONTENT_FUNCTIONS = r"""// Content pages, framed by the launch page (framed by the player), reach the runtime too.
window.addEventListener("load", function () {
  scorm.found = scormFindAPI(window);
  var line = document.getElementById("runtime");
  if (!scorm.found) { line.textContent = "no runtime"; return; }
  line.textContent = (scorm.found.v12 ? "SCORM 1.2" : "SCORM 2004") + " runtime " + scorm.found.depth
    + " frames up; learner: " + scormGet("cmi.core.student_name", "cmi.learner_name");
});
function submitAssessment(questions) {
  var right = 0, v12 = scorm.found.v12;
  questions.forEach(function (q, n) {
    var picked = document.querySelector('input[name="' + q.id + '"]:checked'), p = "cmi.interactions." + n + ".";
    var response = picked ? picked.value : "", correct = response === q.answer;
    if (correct) { right++; }
    scormSet(p + "id", p + "id", q.id);
    scormSet(p + "type", p + "type", "choice");
    scormSet(p + "student_response", p + "learner_response", response);
    scormSet(p + "correct_responses.0.pattern", p + "correct_responses.0.pattern", q.answer);
    scormSet(p + "result", p + "result", correct ? "correct" : (v12 ? "wrong" : "incorrect"));
  });
  var score = Math.round(100 * right / questions.length);
  var passing = Number(scormGet("cmi.student_data.mastery_score", "cmi.scaled_passing_score")) || 0;
  var passed = v12 ? score >= passing : score / 100 >= passing;
  scormSet("cmi.core.score.raw", "cmi.score.raw", String(score));
  scormSet("cmi.core.score.min", "cmi.score.min", "0");
  scormSet("cmi.core.score.max", "cmi.score.max", "100");
  if (v12) {
    scormSet("cmi.core.lesson_status", "", passed ? "passed" : "failed");
  } else {
    scormSet("", "cmi.score.scaled", String(score / 100));
    scormSet("", "cmi.success_status", passed ? "passed" : "failed");
    scormSet("", "cmi.completion_status", "completed");
  }
  document.getElementById("result").textContent = "Score " + score + "% (" + (passed ? "passed" : "failed")
    + "), saved: " + scormCall("LMSCommit", "Commit", "");
  window.parent.finishLesson();
}
"""

LAUNCH_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Golf Explained</title>
<link rel="stylesheet" href="style.css"><script src="scormfunctions.js"></script></head>
<body class="launch"><header><strong id="topic">Golf Explained</strong> <span id="counter"></span>
<span id="entry"></span> <span id="state">loading</span></header>
<iframe id="contentFrame" title="Golf content"></iframe>
<nav><button id="prev" type="button">Previous</button> <button id="next" type="button">Next</button></nav>
<script>
var TOPICS = __TOPICS__;
var topic = new URLSearchParams(location.search).get("content"), pages = TOPICS[topic] || [], current = 0;
function show(id, text) { document.getElementById(id).textContent = text; }
function goToPage(n) {
  current = n;
  document.getElementById("contentFrame").src = "../" + pages[n];
  show("counter", "Page " + (n + 1) + " of " + pages.length);
  document.getElementById("prev").disabled = n === 0;
  document.getElementById("next").disabled = n === pages.length - 1;
  scormSet("cmi.core.lesson_location", "cmi.location", String(n));
  scormSet("cmi.suspend_data", "cmi.suspend_data", "topic=" + topic + ";page=" + n);
  if (n === pages.length - 1 && topic !== "assessment") { show("state", "completed:" + scormComplete()); }
}
function finishLesson() { show("state", "finished:" + scormFinish()); }
window.addEventListener("load", function () {
  if (!scormInitialize()) { show("state", "no-api"); return; }
  var saved = parseInt(scormGet("cmi.core.lesson_location", "cmi.location"), 10);
  show("entry", "entry: " + scormGet("cmi.core.entry", "cmi.entry"));
  show("state", "ready");
  goToPage(saved >= 0 && saved < pages.length ? saved : 0);
});
document.getElementById("prev").onclick = function () { goToPage(current - 1); };
document.getElementById("next").onclick = function () { goToPage(current + 1); };
window.addEventListener("pagehide", scormFinish);
</script></body></html>
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{heading}</title><link rel="stylesheet" href="../shared/style.css">
<script src="../shared/scormfunctions.js"></script><script src="../shared/contentfunctions.js"></script></head>
<body><h1>{heading}</h1><img src="{image}" alt="{heading}" width="96" height="64"><p>{text}</p>
{extra}<footer id="runtime">looking for the runtime</footer></body></html>
"""

ASSESSMENT = """<form id="quiz">{questions}</form><p>Passing score: <b id="passing"></b></p>
<button id="submit" type="button">Submit answers</button> <output id="result"></output>
<script>
var QUESTIONS = {data};
window.addEventListener("load", function () {{
  document.getElementById("passing").textContent = scormGet("cmi.student_data.mastery_score",
                                                            "cmi.scaled_passing_score");
}});
document.getElementById("submit").onclick = function () {{ submitAssessment(QUESTIONS); }};
</script>
"""


def jpg(width: int = 24, height: int = 16, colour: tuple[int, int, int] = (40, 140, 60)) -> bytes:
    """A small real JPEG (a golf-green rectangle)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", quality=70)
    return out.getvalue()


def _topic_files(content: str, folder: str, pages: list[tuple[str, str, str]]) -> dict[str, bytes]:
    files = {f"{folder}/{content}.png": png(16, 12), f"{folder}/{content}_green.jpg": jpg()}
    for n, (name, heading, text) in enumerate(pages):
        image = f"{content}.png" if n % 2 == 0 else f"{content}_green.jpg"
        files[f"{folder}/{name}"] = PAGE.format(heading=heading, image=image, text=text, extra="").encode()
    return files


def _assessment_page() -> bytes:
    questions = "".join(
        f'<fieldset><legend>{text}</legend>' + "".join(
            f'<label><input type="radio" name="{qid}" value="{key}" id="{qid}_{key}"> {label}</label> '
            for key, label in choices.items()) + "</fieldset>" for qid, text, choices, _ in QUESTIONS)
    data = json.dumps([{"id": qid, "answer": answer} for qid, _, _, answer in QUESTIONS])
    page = PAGE.format(heading="Knowledge Check", image="background.jpg", text="Four questions on the game.",
                       extra=ASSESSMENT.format(questions=questions, data=data))
    return page.replace("../shared/", "")  # it lives in shared/ itself


def golf_files(*, assessment: bool) -> dict[str, bytes]:
    """Every content file of a golf package (no manifest, no schema files)."""
    pages = {content: [f"{folder}/{page[0]}" for page in topic_pages] for content, folder, _, topic_pages in TOPICS}
    files: dict[str, bytes] = {}
    for content, folder, _, topic_pages in TOPICS:
        files |= _topic_files(content, folder, topic_pages)
    if assessment:
        pages["assessment"] = ["shared/assessment.html"]
        files["shared/assessment.html"] = _assessment_page()
    files |= {"shared/launchpage.html": LAUNCH_PAGE.replace("__TOPICS__", json.dumps(pages)).encode(),
              "shared/scormfunctions.js": SCORM_FUNCTIONS.encode(), "shared/contentfunctions.js":
              CONTENT_FUNCTIONS.encode(), "shared/background.jpg": jpg(64, 32, (120, 180, 90)),
              "shared/style.css": b"body{font-family:sans-serif;margin:1em;background:#eef5e6 url(background.jpg)}"
                                  b" .launch iframe{width:100%;height:420px;border:1px solid #8a8;background:#fff}"
                                  b" footer{color:#555;font-size:.8em} fieldset{margin:.5em 0}"}
    return files
