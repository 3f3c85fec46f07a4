"""Constructs met in public SCORM packages, each rewritten here as a small manifest of our own."""

from app.services.scorm.manifest import read_manifest

NS_12 = ('xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" '
         'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"')
NS_2004 = ('xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" '
           'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"')


def kitchen(namespaces: str, version: str) -> str:
    """A cooking course whose first unit is itself a page (the item has both children and a resource)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="kitchen" {namespaces}>
  <metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>
  <organizations default="kitchen_org">
    <organization identifier="kitchen_org">
      <title>Bếp cơ bản</title>
      <item identifier="unit_tools" identifierref="r_tools">
        <title>Dụng cụ bếp</title>
        <item identifier="knife" identifierref="r_knife"><title>Cầm dao</title></item>
        <item identifier="fire" identifierref="r_fire"><title>Giữ lửa</title></item>
      </item>
      <item identifier="wrap_up" identifierref="r_wrap"><title>Tổng kết</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r_tools" type="webcontent" adlcp:scormtype="sco" href="tools/index.html"/>
    <resource identifier="r_knife" type="webcontent" adlcp:scormtype="sco" href="tools/knife.html"/>
    <resource identifier="r_fire" type="webcontent" adlcp:scormtype="asset" href="tools/fire.html"/>
    <resource identifier="r_wrap" type="webcontent" adlcp:scormtype="sco" href="wrap.html"/>
  </resources>
</manifest>"""


FILES = {"tools/index.html", "tools/knife.html", "tools/fire.html", "wrap.html"}


def test_12_item_with_children_and_a_resource_is_a_lesson_before_its_children():
    # SCORM 1.2 lets an aggregation point at content of its own; LMSs launch it like any other SCO.
    manifest = read_manifest(kitchen(NS_12, "1.2").encode(), FILES)
    assert [(m.title, [(s.title, s.scorm_type) for s in m.scos]) for m in manifest.modules] == [
        ("Bếp cơ bản", [("Dụng cụ bếp", "sco")]),
        ("Bếp cơ bản › Dụng cụ bếp", [("Cầm dao", "sco"), ("Giữ lửa", "asset")]),
        ("Bếp cơ bản", [("Tổng kết", "sco")]),
    ]
    assert manifest.scos[0].launch == "tools/index.html" and manifest.scos[0].key == "unit_tools"
    assert not [n for n in manifest.notices if n["message"] == "scorm_ignored"]


def test_2004_item_with_children_keeps_only_its_children_and_says_so():
    # SCORM 2004 allows a resource on leaf items only: the cluster's reference is listed as ignored.
    manifest = read_manifest(kitchen(NS_2004, "2004 3rd Edition").encode(), FILES)
    assert [s.title for s in manifest.scos] == ["Cầm dao", "Giữ lửa", "Tổng kết"]
    ignored = [n.params["what"] for n in manifest.notices if n["message"] == "scorm_ignored"]
    assert ignored == ["identifierref of “unit_tools”"]


def test_12_parent_pointing_at_a_resource_without_href_is_listed_not_refused():
    xml = kitchen(NS_12, "1.2").replace(
        '<resource identifier="r_tools" type="webcontent" adlcp:scormtype="sco" href="tools/index.html"/>',
        '<resource identifier="r_tools" type="webcontent" adlcp:scormtype="asset"><file href="wrap.html"/></resource>')
    manifest = read_manifest(xml.encode(), FILES)
    assert [s.title for s in manifest.scos] == ["Cầm dao", "Giữ lửa", "Tổng kết"]
    assert [n.params["what"] for n in manifest.notices if n["message"] == "scorm_ignored"] == [
        "identifierref of “unit_tools”"]
