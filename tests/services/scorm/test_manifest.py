"""imsmanifest.xml → course outline: versions, organizations, items, resources, and every problem's line."""

import pytest

from app.services.scorm.manifest import ManifestInvalid, read_manifest
from tests.factories.golf_packages import ATTEMPTS_2004, PASSING_2004, golf_package_files, manifest_golf_2004
from tests.factories.scorm_packages import content_files, manifest_12, manifest_2004

FILES = set(content_files())


def read(xml: str, files: set[str] = FILES):
    return read_manifest(xml.encode(), files)


def codes(excinfo) -> list[tuple[str, int | None]]:
    return [(e["message"], e.get("line")) for e in excinfo.value.errors]


def test_scorm_12_multi_sco_becomes_modules_and_lessons_in_order():
    manifest = read(manifest_12())
    assert manifest.version == "1.2"
    assert manifest.title == "Golf Explained"
    assert [(m.title, [s.title for s in m.scos]) for m in manifest.modules] == [
        ("Golf Explained › Golf Basics", ["Playing the Game", "Etiquette"]),
        ("Golf Explained", ["Handicapping"]),
    ]
    playing = manifest.scos[0]
    assert playing.key == "playing_item"
    assert playing.launch == "Playing/index.html"  # xml:base of the resource applied
    assert playing.query == "?lang=vi"  # item parameters
    assert playing.mastery_score == 80
    assert playing.launch_data == "golf-playing"
    assert playing.max_time_allowed == "0001:00:00"
    assert playing.time_limit_action == "continue,no message"
    assert playing.completion_rule == "completed_or_passed"
    assert manifest.scos[2].mastery_score is None


@pytest.mark.parametrize(("edition", "version"), [("2nd", "2004-2"), ("3rd", "2004-3"), ("4th", "2004-4")])
def test_scorm_2004_editions_read_threshold_and_passing_score(edition, version):
    manifest = read(manifest_2004(edition, threshold=0.75))
    assert manifest.version == version
    assert [s.key for s in manifest.scos] == ["playing_item", "etiquette_item", "handicap_item"]
    sco = manifest.scos[0]
    assert (sco.completion_threshold, sco.scaled_passing_score) == (0.75, 0.8)
    assert sco.completion_rule == "completed_and_passed"
    # sequencing is not run: each ignored element is listed with its line
    ignored = [n.params["what"] for n in manifest.notices if n["message"] == "scorm_ignored"]
    assert "<imsss:deliveryControls>" in ignored and "<imsss:sequencing>" in ignored


def test_2004_without_passing_score_completes_on_completed_or_passed():
    sco = read(manifest_2004(passing=None)).scos[0]
    assert sco.scaled_passing_score is None and sco.completion_rule == "completed_or_passed"


def test_2004_camel_case_adlcp_elements_and_limit_conditions_are_read():
    extra = ("\n          <adlcp:dataFromLMS>golf-2004</adlcp:dataFromLMS>"
             "\n          <adlcp:timeLimitAction>exit,message</adlcp:timeLimitAction>")
    manifest = read(manifest_2004(item_extra=extra, limits='attemptLimit="2" attemptAbsoluteDurationLimit="PT1H30M"'))
    sco = manifest.scos[0]
    assert (sco.launch_data, sco.time_limit_action) == ("golf-2004", "exit,message")
    assert (sco.max_time_allowed, sco.attempt_limit) == ("PT1H30M", 2)
    ignored = [n.params["what"] for n in manifest.notices if n["message"] == "scorm_ignored"]
    assert "<imsss:limitConditions>" not in ignored and "<imsss:deliveryControls>" in ignored


def test_attempt_limit_zero_is_no_limit_and_bad_limits_are_refused_with_their_line():
    assert read(manifest_2004(limits='attemptLimit="0"')).scos[0].attempt_limit is None
    with pytest.raises(ManifestInvalid) as bad:
        read(manifest_2004(limits='attemptLimit="two" attemptAbsoluteDurationLimit="1 hour"'))
    assert {(e["message"], e.params["name"]) for e in bad.value.errors} == {
        ("scorm_bad_value", "imsss:attemptLimit"), ("scorm_bad_value", "imsss:attemptAbsoluteDurationLimit")}
    assert all(e.get("line") for e in bad.value.errors)


def test_missing_schemaversion_is_read_from_the_namespace_as_the_peers_do():
    m12 = read(manifest_12().replace("<schemaversion>1.2</schemaversion>", ""))
    m2004 = read(manifest_2004().replace("<schemaversion>2004 3rd Edition</schemaversion>", ""))
    assert (m12.version, m2004.version) == ("1.2", "2004-3")
    assert any(n["message"] == "scorm_version_assumed" for n in m12.notices)


def test_unknown_version_is_refused_with_its_line():
    with pytest.raises(ManifestInvalid) as excinfo:
        read(manifest_12().replace("<schemaversion>1.2</schemaversion>", "<schemaversion>1.1</schemaversion>"))
    assert codes(excinfo) == [("scorm_version_unknown", 5)]


def test_every_problem_is_listed_with_its_line():
    xml = (manifest_12()
           .replace('identifierref="Etiquette_res"', 'identifierref="nowhere"')
           .replace('<file href="shared/golf.png"/>', '<file href="shared/ball.png"/>')
           .replace("<adlcp:masteryscore>80</adlcp:masteryscore>", "<adlcp:masteryscore>180</adlcp:masteryscore>",
                    1))
    with pytest.raises(ManifestInvalid) as excinfo:
        read(xml)
    found = codes(excinfo)
    lines = xml.splitlines()
    assert ("scorm_missing_resource", 1 + next(i for i, t in enumerate(lines) if 'identifierref="nowhere"' in t)) \
        in found
    assert ("scorm_missing_file", 1 + next(i for i, t in enumerate(lines) if "ball.png" in t)) in found
    assert ("scorm_bad_value", 1 + next(i for i, t in enumerate(lines) if ">180<" in t)) in found
    assert all(e["file"] == "imsmanifest.xml" for e in excinfo.value.errors)


def test_a_launch_file_missing_from_the_package_is_refused():
    with pytest.raises(ManifestInvalid) as excinfo:
        read(manifest_2004(), FILES - {"Etiquette/index.html"})
    assert {c for c, _ in codes(excinfo)} == {"scorm_missing_file"}
    assert len(excinfo.value.errors) == 2  # the resource's href and its <file>


def test_malformed_xml_names_the_line_and_column():
    with pytest.raises(ManifestInvalid) as excinfo:
        read(manifest_12().replace("<title>Golf Basics</title>", "<title>Golf Basics</titel>"))
    ((code, line),) = codes(excinfo)
    expected = 1 + next(i for i, t in enumerate(manifest_12().splitlines()) if "Golf Basics" in t)
    assert code == "scorm_xml" and line == expected
    assert excinfo.value.errors[0]["column"] == len("        <title>Golf Basics</") + 1  # the wrong name


def test_entities_are_refused_not_expanded():
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY a "aaaaaaaa">]>\n<manifest>&a;</manifest>'
    with pytest.raises(ManifestInvalid) as excinfo:
        read(bomb)
    assert codes(excinfo)[0][0] == "scorm_xml"


def test_no_organization_is_refused():
    xml = manifest_12()
    start, end = xml.index("<organization "), xml.index("</organization>") + len("</organization>")
    with pytest.raises(ManifestInvalid) as excinfo:
        read(xml[:start] + xml[end:])
    assert codes(excinfo)[0][0] == "scorm_no_organization"


def test_the_default_organization_wins_and_others_are_listed_as_ignored():
    xml = manifest_12().replace("<organizations default=\"golf_org\">", """<organizations default="golf_org">
    <organization identifier="other"><title>Other</title>
      <item identifier="x" identifierref="Handicapping_res"><title>X</title></item></organization>""")
    manifest = read(xml)
    assert manifest.title == "Golf Explained"
    assert any("other" in n.params.get("what", "") for n in manifest.notices)


def test_hrefs_may_not_leave_the_package():
    xml = manifest_12().replace('href="index.html" xml:base="Playing/"', 'href="../../etc/passwd"', 1)
    with pytest.raises(ManifestInvalid) as excinfo:
        read(xml)
    assert "scorm_external_href" in [c for c, _ in codes(excinfo)]
    with pytest.raises(ManifestInvalid):
        read(manifest_12().replace('href="index.html" xml:base="Playing/"', 'href="https://evil.example/x"', 1))


def test_assets_are_lessons_that_need_no_api():
    xml = manifest_12().replace('adlcp:scormtype="sco"\n              href="index.html" xml:base="Handicapping/"',
                                'adlcp:scormtype="asset"\n              href="index.html" xml:base="Handicapping/"')
    assert [s.scorm_type for s in read(xml).scos] == ["sco", "sco", "asset"]


def test_common_cartridge_is_named():
    xml = '<?xml version="1.0"?>\n<manifest xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"/>'
    with pytest.raises(ManifestInvalid) as excinfo:
        read(xml)
    assert codes(excinfo) == [("scorm_common_cartridge", 2)]


def test_lesson_keys_are_stable_and_unique():
    xml = manifest_12().replace('identifier="etiquette_item"', 'identifier="Playing Item"')
    keys = [s.key for s in read(xml).scos]
    assert keys == ["playing_item", "playing-item", "handicap_item"]


def test_xml_base_of_manifest_resources_and_resource_combine():
    xml = manifest_12().replace("<resources>", '<resources xml:base="content/">').replace(
        '<manifest identifier', '<manifest xml:base="pkg/" identifier')
    files = {f"pkg/content/{name}" for name in FILES}
    manifest = read(xml, files)
    assert manifest.scos[0].launch == "pkg/content/Playing/index.html"
    with pytest.raises(ManifestInvalid):  # the same manifest against files where they were before
        read(xml)


def test_percent_encoded_hrefs_name_the_file():
    xml = manifest_12().replace('href="index.html" xml:base="Playing/"', 'href="My%20Page.html" xml:base="Playing/"')
    xml = xml.replace('<file href="index.html"/><dependency identifierref="shared_res"/>\n    </resource>\n    '
                      '<resource identifier="Etiquette_res"', '<file href="My%20Page.html"/>\n    </resource>\n    '
                      '<resource identifier="Etiquette_res"', 1)
    manifest = read(xml, FILES | {"Playing/My Page.html"})
    assert manifest.scos[0].launch == "Playing/My Page.html"


@pytest.mark.parametrize(("written", "kept"), [("1:00:00", "0001:00:00"), ("00:30:00.0", "0000:30:00.0"),
                                               ("0000:30:00", "0000:30:00"), ("02:15:30.25", "0002:15:30.25")])
def test_12_maxtimeallowed_takes_what_cmitimespan_allows_in_one_normal_form(written, kept):
    xml = manifest_12().replace("<adlcp:maxtimeallowed>0001:00:00<", f"<adlcp:maxtimeallowed>{written}<", 1)
    assert read(xml).scos[0].max_time_allowed == kept


@pytest.mark.parametrize("written", ["one hour", "1:00", "00:75:00", "12345:00:00", "PT1H"])
def test_12_maxtimeallowed_garbage_is_refused_with_file_and_line(written):
    xml = manifest_12().replace("<adlcp:maxtimeallowed>0001:00:00<", f"<adlcp:maxtimeallowed>{written}<", 1)
    with pytest.raises(ManifestInvalid) as excinfo:
        read(xml)
    line = 1 + next(i for i, t in enumerate(xml.splitlines()) if f">{written}<" in t)
    assert codes(excinfo) == [("scorm_bad_value", line)]
    assert excinfo.value.errors[0]["file"] == "imsmanifest.xml"
    assert excinfo.value.errors[0].params == {"name": "adlcp:maxtimeallowed", "value": written}


GOLF_2004 = set(golf_package_files("2004"))


def test_sequencing_named_by_idref_comes_from_the_collection_once_per_element():
    xml = manifest_golf_2004()
    manifest = read(xml, GOLF_2004)
    assessment = manifest.scos[-1]
    assert (assessment.key, assessment.scaled_passing_score, assessment.attempt_limit) == (
        "assessment_item", PASSING_2004, ATTEMPTS_2004)
    assert assessment.completion_rule == "completed_and_passed"
    assert {(s.scaled_passing_score, s.attempt_limit) for s in manifest.scos[:-1]} == {(None, None)}
    lines = xml.splitlines()
    collection = next(i for i, t in enumerate(lines) if "<imsss:sequencingCollection>" in t) + 1
    shared = [(n["line"], n.params["what"]) for n in manifest.notices if n["line"] > collection]
    # four items use common_seq_rules: its ignored elements are listed once each, with their lines
    assert shared == [(collection + 2, "<imsss:controlMode>"), (collection + 3, "<imsss:rollupRules>"),
                      (collection + 4, "<imsss:deliveryControls>"), (collection + 7, "<imsss:controlMode>"),
                      (collection + 9, "<imsss:rollupRules>"), (collection + 15, "<imsss:deliveryControls>")]


def test_the_items_own_sequencing_elements_win_over_the_collections():
    xml = manifest_golf_2004().replace('<imsss:sequencing IDRef="assessment_seq_rules"/>',
                                       '<imsss:sequencing IDRef="assessment_seq_rules">'
                                       '<imsss:limitConditions attemptLimit="1"/></imsss:sequencing>')
    assessment = read(xml, GOLF_2004).scos[-1]
    assert (assessment.attempt_limit, assessment.scaled_passing_score) == (1, PASSING_2004)


def test_an_idref_to_no_sequencing_is_refused_and_an_unused_one_listed():
    xml = manifest_golf_2004().replace('IDRef="assessment_seq_rules"', 'IDRef="quiz_rules"')
    with pytest.raises(ManifestInvalid) as excinfo:
        read(xml, GOLF_2004)
    line = 1 + next(i for i, t in enumerate(xml.splitlines()) if 'IDRef="quiz_rules"' in t)
    assert codes(excinfo) == [("scorm_missing_sequencing", line)]
    assert excinfo.value.errors[0].params == {"item": "assessment_item", "ref": "quiz_rules"}
    unused = read(xml.replace('IDRef="quiz_rules"', 'IDRef="common_seq_rules"'), GOLF_2004)
    assert "<imsss:sequencing ID=“assessment_seq_rules”>" in [n.params["what"] for n in unused.notices]
    assert unused.scos[-1].scaled_passing_score is None
