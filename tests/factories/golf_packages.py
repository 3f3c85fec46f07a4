"""SCORM packages shaped like Rustici's public "golf examples", written for HocSo's tests (nothing downloaded or
copied): SCORM 1.2 "Golf Explained - Multi SCO" and a SCORM 2004 3rd edition "Golf Explained - Sequencing".

The shape is theirs: the schema files at the package root, a folder per topic with its pages and images
(`tests/factories/golf_content.py`), every SCO launching the same `shared/launchpage.html?content=<topic>`, the
shared files as an asset resource the SCOs depend on, and in 2004 the sequencing shared through the manifest's
`<imsss:sequencingCollection>` (`IDRef`) with a primary objective per item.
"""

from pathlib import Path

from tests.factories.golf_content import TOPICS, golf_files
from tests.factories.packages import write_zip

XSD_12 = ["adlcp_rootv1p2.xsd", "imscp_rootv1p1p2.xsd", "imsmd_rootv1p2p1.xsd", "ims_xml.xsd"]
XSD_2004 = ["adlcp_v1p3.xsd", "adlnav_v1p3.xsd", "adlseq_v1p3.xsd", "imscp_v1p1.xsd", "imsss_v1p0.xsd",
            "imsss_v1p0auxresource.xsd", "imsss_v1p0control.xsd", "imsss_v1p0delivery.xsd", "imsss_v1p0limit.xsd",
            "imsss_v1p0objective.xsd", "imsss_v1p0random.xsd", "imsss_v1p0rollup.xsd", "imsss_v1p0seqrule.xsd",
            "imsss_v1p0util.xsd", "xml.xsd", "common/anyElement.xsd", "vocab/lom.xsd"]
PASSING_2004 = 0.7  # the assessment's primary objective, written in the sequencingCollection
ATTEMPTS_2004 = 3

def xsd(name: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- {name}: a placeholder written for HocSo\'s tests, where '
            'a package carries its copy of the schema. -->\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"'
            ' elementFormDefault="qualified"/>\n').encode()


def _resources(files: dict[str, bytes], scos: list[tuple[str, str]], scorm_type: str) -> str:
    """One SCO resource per (content, folder) on the shared launch page, and the shared files as an asset."""
    def listed(prefix: str) -> str:
        return "".join(f'\n      <file href="{name}"/>' for name in sorted(n for n in files if n.startswith(prefix)))
    resources = [f"""    <resource identifier="{content}_resource" type="webcontent" adlcp:{scorm_type}="sco"
              href="shared/launchpage.html?content={content}">{listed(folder)}
      <dependency identifierref="common_files"/>
    </resource>""" for content, folder in scos]
    return "\n".join(resources) + f"""
    <resource identifier="common_files" type="webcontent" adlcp:{scorm_type}="asset">{listed("shared/")}
    </resource>"""


def manifest_golf_12() -> str:
    """SCORM 1.2 "Golf Explained - Multi SCO": one flat organization, four SCOs on one launch page."""
    items = "\n".join(f"""      <item identifier="{content}_item" identifierref="{content}_resource">
        <title>{title}</title>
      </item>""" for content, _, title, _ in TOPICS)
    resources = _resources(golf_files(assessment=False), [(c, f + "/") for c, f, _, _ in TOPICS], "scormtype")
    return f"""<?xml version="1.0" standalone="no" ?>
<manifest identifier="com.example.hocso.golf.multisco.12" version="1"
          xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd
                              http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd
                              http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
  </metadata>
  <organizations default="golf_default_org">
    <organization identifier="golf_default_org">
      <title>Golf Explained - Multi SCO</title>
{items}
    </organization>
  </organizations>
  <resources>
{resources}
  </resources>
</manifest>
"""


def manifest_golf_2004() -> str:
    """SCORM 2004 3rd edition "Golf Explained - Sequencing": four topic SCOs and an assessment, sequencing shared
    through the manifest's sequencingCollection (`IDRef`), each topic with its own primary objective."""
    items = [f"""      <item identifier="{content}_item" identifierref="{content}_resource">
        <title>{title}</title>
        <imsss:sequencing IDRef="common_seq_rules">
          <imsss:objectives>
            <imsss:primaryObjective objectiveID="{content}_satisfied">
              <imsss:mapInfo targetObjectiveID="com.example.hocso.golf.{content}_satisfied"
                             readSatisfiedStatus="true" writeSatisfiedStatus="true"/>
            </imsss:primaryObjective>
          </imsss:objectives>
        </imsss:sequencing>
      </item>""" for content, _, title, _ in TOPICS]
    items.append("""      <item identifier="assessment_item" identifierref="assessment_resource">
        <title>Knowledge Check</title>
        <imsss:sequencing IDRef="assessment_seq_rules"/>
        <adlnav:presentation>
          <adlnav:navigationInterface><adlnav:hideLMSUI>continue</adlnav:hideLMSUI></adlnav:navigationInterface>
        </adlnav:presentation>
      </item>""")
    scos = [*((c, f + "/") for c, f, _, _ in TOPICS), ("assessment", "shared/assessment")]
    resources = _resources(golf_files(assessment=True), scos, "scormType")
    items_xml = "\n".join(items)
    return f"""<?xml version="1.0" standalone="no" ?>
<manifest identifier="com.example.hocso.golf.sequencing.20043rd" version="1"
          xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
          xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
          xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
          xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
          xsi:schemaLocation="http://www.imsglobal.org/xsd/imscp_v1p1 imscp_v1p1.xsd
                              http://www.adlnet.org/xsd/adlcp_v1p3 adlcp_v1p3.xsd
                              http://www.adlnet.org/xsd/adlseq_v1p3 adlseq_v1p3.xsd
                              http://www.adlnet.org/xsd/adlnav_v1p3 adlnav_v1p3.xsd
                              http://www.imsglobal.org/xsd/imsss imsss_v1p0.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>2004 3rd Edition</schemaversion>
  </metadata>
  <organizations default="golf_default_org">
    <organization identifier="golf_default_org" adlseq:objectivesGlobalToSystem="false">
      <title>Golf Explained - Sequencing</title>
{items_xml}
      <imsss:sequencing>
        <imsss:controlMode choice="true" flow="true"/>
        <imsss:rollupRules>
          <imsss:rollupRule childActivitySet="all">
            <imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions>
            <imsss:rollupAction action="satisfied"/>
          </imsss:rollupRule>
        </imsss:rollupRules>
      </imsss:sequencing>
    </organization>
  </organizations>
  <resources>
{resources}
  </resources>
  <imsss:sequencingCollection>
    <imsss:sequencing ID="common_seq_rules">
      <imsss:controlMode choice="true" flow="true"/>
      <imsss:rollupRules objectiveMeasureWeight="0"/>
      <imsss:deliveryControls completionSetByContent="true" objectiveSetByContent="true"/>
    </imsss:sequencing>
    <imsss:sequencing ID="assessment_seq_rules">
      <imsss:controlMode choice="true" flow="true"/>
      <imsss:limitConditions attemptLimit="{ATTEMPTS_2004}"/>
      <imsss:rollupRules objectiveMeasureWeight="1"/>
      <imsss:objectives>
        <imsss:primaryObjective objectiveID="assessment_satisfied" satisfiedByMeasure="true">
          <imsss:minNormalizedMeasure>{PASSING_2004}</imsss:minNormalizedMeasure>
        </imsss:primaryObjective>
      </imsss:objectives>
      <imsss:deliveryControls completionSetByContent="true" objectiveSetByContent="true"/>
    </imsss:sequencing>
  </imsss:sequencingCollection>
</manifest>
"""


def golf_package_files(version: str) -> dict[str, bytes]:
    """The whole package of `version` ("1.2" or "2004"): manifest, schema files and content."""
    if version == "1.2":
        return {"imsmanifest.xml": manifest_golf_12().encode(), **{n: xsd(n) for n in XSD_12},
                **golf_files(assessment=False)}
    return {"imsmanifest.xml": manifest_golf_2004().encode(), **{n: xsd(n) for n in XSD_2004},
            **golf_files(assessment=True)}


def golf_zip(path: Path, version: str) -> Path:
    return write_zip(path, golf_package_files(version))
