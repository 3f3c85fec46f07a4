"""SCORM packages built in the tests, in the spirit of ADL's golf examples: several SCOs with HTML, a shared
JavaScript file that really talks to the LMS API, and images. Nothing is downloaded.

The SCO script finds `API` (1.2) or `API_1484_11` (2004) by walking up `window.parent`, initialises, shows
the entry mode, location and suspend data it was given, and offers two buttons: "save" (suspend with a new
location and suspend data) and "finish" (complete with a score). Browser tests click them.
"""

import struct
import zlib
from pathlib import Path

from tests.factories.packages import write_zip

SCO_JS = r"""
function findAPI(win, name) {
  for (var i = 0; win && i < 10; i++) {
    if (win[name]) return win[name];
    if (win.parent === win) break;
    win = win.parent;
  }
  return null;
}
var v12 = !!findAPI(window, "API");
var api = v12 ? findAPI(window, "API") : findAPI(window, "API_1484_11");
function call(n12, n2004) { var a = [].slice.call(arguments, 2); return api[v12 ? n12 : n2004].apply(api, a); }
function get(e12, e2004) { return call("LMSGetValue", "GetValue", v12 ? e12 : e2004); }
function set(e12, e2004, value) { return call("LMSSetValue", "SetValue", v12 ? e12 : e2004, value); }
function show(id, text) { document.getElementById(id).textContent = text; }
window.addEventListener("load", function () {
  if (!api) { show("state", "no-api"); return; }
  show("state", "init:" + call("LMSInitialize", "Initialize", ""));
  show("version", v12 ? "SCORM 1.2" : "SCORM 2004");
  show("entry", get("cmi.core.entry", "cmi.entry"));
  show("location", get("cmi.core.lesson_location", "cmi.location"));
  show("suspend", get("cmi.suspend_data", "cmi.suspend_data"));
  show("learner", get("cmi.core.student_name", "cmi.learner_name"));
  set("cmi.core.lesson_status", "cmi.completion_status", "incomplete");
  show("state", "ready");
});
function save() {
  set("cmi.core.lesson_location", "cmi.location", "page-3");
  set("cmi.suspend_data", "cmi.suspend_data", "visited=1,2,3;answers=" + "x".repeat(5000));
  set("cmi.core.exit", "cmi.exit", "suspend");
  var c = call("LMSCommit", "Commit", "");
  var f = call("LMSFinish", "Terminate", "");
  show("state", "saved:" + c + ":" + f);
}
function finish() {
  set("cmi.core.score.raw", "cmi.score.raw", "85");
  if (!v12) { set("", "cmi.score.scaled", "0.85"); set("", "cmi.success_status", "passed"); }
  set("cmi.core.score.min", "cmi.score.min", "0");
  set("cmi.core.score.max", "cmi.score.max", "100");
  set("cmi.core.lesson_status", "cmi.completion_status", "completed");
  set("cmi.core.session_time", "cmi.session_time", v12 ? "0000:02:30.00" : "PT2M30S");
  set("cmi.core.exit", "cmi.exit", v12 ? "" : "normal");
  var c = call("LMSCommit", "Commit", "");
  var f = call("LMSFinish", "Terminate", "");
  show("state", "finished:" + c + ":" + f);
}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="../shared/style.css"><script src="../shared/sco.js"></script></head>
<body><h1>{title}</h1><img src="../shared/golf.png" alt="golf ball" width="64" height="64">
<p>{body}</p>
<dl><dt>version</dt><dd id="version"></dd><dt>state</dt><dd id="state">loading</dd><dt>entry</dt><dd id="entry"></dd>
<dt>location</dt><dd id="location"></dd><dt>learner</dt><dd id="learner"></dd>
<dt>suspend data</dt><dd id="suspend" style="max-width:40em;overflow:hidden;white-space:nowrap"></dd></dl>
<button id="save" onclick="save()">Save and leave</button> <button id="finish" onclick="finish()">Finish</button>
</body></html>
"""

SCOS = [  # (item id, folder, title, body)
    ("playing_item", "Playing", "Playing the Game", "How to play golf: par, strokes and the order of play."),
    ("etiquette_item", "Etiquette", "Etiquette", "Care for the course, and safety on it."),
    ("handicap_item", "Handicapping", "Handicapping", "How handicaps let players of different skill compete."),
]


def png(width: int = 8, height: int = 8) -> bytes:
    """A small green PNG (a real image, decoded by the browser)."""
    raw = b"".join(b"\x00" + b"\x20\xa0\x40" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def content_files() -> dict[str, bytes]:
    files = {"shared/sco.js": SCO_JS.encode(), "shared/golf.png": png(),
             "shared/style.css": b"body{font-family:sans-serif;margin:1em} dd{font-weight:bold}"}
    for _, folder, title, body in SCOS:
        files[f"{folder}/index.html"] = PAGE.format(title=title, body=body).encode()
    return files


def manifest_12(*, mastery: int | None = 80) -> str:
    items = []
    for item_id, folder, title, _ in SCOS[:2]:
        mastery_el = f"<adlcp:masteryscore>{mastery}</adlcp:masteryscore>" if mastery is not None else ""
        items.append(f"""      <item identifier="{item_id}" identifierref="{folder}_res" parameters="?lang=vi">
        <title>{title}</title>{mastery_el}
        <adlcp:datafromlms>golf-{folder.lower()}</adlcp:datafromlms>
        <adlcp:maxtimeallowed>0001:00:00</adlcp:maxtimeallowed>
        <adlcp:timelimitaction>continue,no message</adlcp:timelimitaction>
      </item>""")
    resources = "\n".join(f"""    <resource identifier="{folder}_res" type="webcontent" adlcp:scormtype="sco"
              href="index.html" xml:base="{folder}/">
      <file href="index.html"/><dependency identifierref="shared_res"/>
    </resource>""" for _, folder, _, _ in SCOS)
    handicap_id, handicap_folder, handicap_title, _ = SCOS[2]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.golf.12" version="1.0"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="golf_org">
    <organization identifier="golf_org">
      <title>Golf Explained</title>
      <item identifier="basics" isvisible="true">
        <title>Golf Basics</title>
{chr(10).join(items)}
      </item>
      <item identifier="{handicap_id}" identifierref="{handicap_folder}_res">
        <title>{handicap_title}</title>
      </item>
    </organization>
  </organizations>
  <resources>
{resources}
    <resource identifier="shared_res" type="webcontent" adlcp:scormtype="asset">
      <file href="shared/sco.js"/><file href="shared/golf.png"/><file href="shared/style.css"/>
    </resource>
  </resources>
</manifest>
"""


def manifest_2004(edition: str = "3rd", *, passing: float | None = 0.8, threshold: float | None = None,
                  item_extra: str = "", limits: str = "") -> str:
    """`item_extra` goes into each item (adlcp elements); `limits` are imsss:limitConditions attributes."""
    schema = {"2nd": "CAM 1.3", "3rd": "2004 3rd Edition", "4th": "2004 4th Edition"}[edition]
    items = []
    for item_id, folder, title, _ in SCOS:
        sequencing = ""
        if passing is not None or limits:
            objectives = f"""
          <imsss:objectives>
            <imsss:primaryObjective objectiveID="{item_id}_obj" satisfiedByMeasure="true">
              <imsss:minNormalizedMeasure>{passing}</imsss:minNormalizedMeasure>
            </imsss:primaryObjective>
          </imsss:objectives>""" if passing is not None else ""
            limit_conditions = f"\n          <imsss:limitConditions {limits}/>" if limits else ""
            sequencing = f"""
        <imsss:sequencing>{limit_conditions}
          <imsss:deliveryControls tracked="true"/>{objectives}
        </imsss:sequencing>"""
        completion = ""
        if threshold is not None:
            completion = (f'\n        <adlcp:completionThreshold completedByMeasure="true" '
                          f'minProgressMeasure="{threshold}"/>' if edition == "4th"
                          else f"\n        <adlcp:completionThreshold>{threshold}</adlcp:completionThreshold>")
        items.append(f"""        <item identifier="{item_id}" identifierref="{folder}_res">
          <title>{title}</title>{completion}{item_extra}{sequencing}
        </item>""")
    resources = "\n".join(f"""    <resource identifier="{folder}_res" type="webcontent" adlcp:scormType="sco"
              href="{folder}/index.html">
      <file href="{folder}/index.html"/><dependency identifierref="shared_res"/>
    </resource>""" for _, folder, _, _ in SCOS)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.golf.2004" version="1"
    xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
    xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
    xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>{schema}</schemaversion></metadata>
  <organizations default="golf_org">
    <organization identifier="golf_org" adlseq:objectivesGlobalToSystem="false">
      <title>Golf Explained 2004</title>
      <item identifier="module_1">
        <title>Golf</title>
{chr(10).join(items)}
      </item>
      <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>
    </organization>
  </organizations>
  <resources>
{resources}
    <resource identifier="shared_res" type="webcontent" adlcp:scormType="asset">
      <file href="shared/sco.js"/><file href="shared/golf.png"/><file href="shared/style.css"/>
    </resource>
  </resources>
</manifest>
"""


def scorm_files(manifest: str) -> dict[str, bytes]:
    return {"imsmanifest.xml": manifest.encode(), **content_files()}


def scorm_zip(path: Path, manifest: str, *, drop: tuple[str, ...] = (), extra: dict[str, bytes] | None = None,
              folder: str = "") -> Path:
    files = scorm_files(manifest)
    for name in drop:
        files.pop(name)
    files.update(extra or {})
    return write_zip(path, {folder + name: data for name, data in files.items()})
