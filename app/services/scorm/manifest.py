"""`imsmanifest.xml` of a SCORM 1.2 or 2004 (2nd, 3rd, 4th edition) package read into a course outline.

The default organization becomes the course: items with children become modules (deeper nesting is flattened
into "Parent › Child" module titles), leaf items that point at a SCO or asset resource become `scorm` lessons
in the organization's order (in 1.2 a parent item pointing at content is a lesson too, before its children).
Sequencing (`imsss:*`), navigation presentation and sub-manifests are not run:
they are listed as ignored so the import result can say so, except what HocSo honours: the primary objective's
passing score and the limit conditions (`attemptLimit`, `attemptAbsoluteDurationLimit`), whether the item
writes them itself or takes them from the manifest's `<imsss:sequencingCollection>` by `IDRef`. Every problem
names the manifest and its line.
"""

import re
from dataclasses import dataclass, field
from posixpath import normpath
from typing import get_args
from urllib.parse import unquote

from app.core.errors import FieldError
from app.core.i18n import messages
from app.core.text import search_key
from app.models.course import CompletionRule
from app.services.scorm.data_model import normal_timespan_12
from app.services.scorm.sequencing import read_sequencing
from app.services.scorm.xml_tree import XML_NS, Element, XmlProblem, parse_xml

messages({
    "scorm_xml": ("imsmanifest.xml không phải XML hợp lệ: {reason}.",
                  "imsmanifest.xml is not well-formed XML: {reason}."),
    "scorm_not_manifest": ("Phần tử gốc của imsmanifest.xml phải là <manifest>.",
                           "The root element of imsmanifest.xml must be <manifest>."),
    "scorm_version_unknown": ("Phiên bản SCORM “{value}” không được hỗ trợ (1.2, 2004 bản 2, 3, 4).",
                              "SCORM version “{value}” is not supported (1.2, 2004 2nd, 3rd, 4th edition)."),
    "scorm_no_organization": ("Gói SCORM không có tổ chức (<organization>) nào để làm khóa học.",
                              "The SCORM package has no <organization> to become the course."),
    "scorm_no_lessons": ("Tổ chức “{title}” không có mục nào trỏ tới SCO hay tài nguyên.",
                         "The organization “{title}” has no item pointing at a SCO or asset."),
    "scorm_missing_resource": ("Mục “{item}” trỏ tới tài nguyên “{ref}” không có trong <resources>.",
                               "Item “{item}” points at resource “{ref}”, which is not in <resources>."),
    "scorm_resource_no_href": ("Tài nguyên “{ref}” không có href để mở.", "Resource “{ref}” has no href to launch."),
    "scorm_missing_file": ("Tệp “{path}” không có trong gói.", "The file “{path}” is not in the package."),
    "scorm_external_href": ("Đường dẫn “{href}” nằm ngoài gói; nội dung phải nằm trong gói.",
                            "“{href}” points outside the package; content must be inside it."),
    "scorm_bad_value": ("“{name}” có giá trị không hợp lệ “{value}”.", "“{name}” has an invalid value “{value}”."),
    "scorm_missing_identifier": ("Phần tử <{name}> thiếu thuộc tính identifier.",
                                 "The <{name}> element has no identifier attribute."),
    "scorm_ignored": ("Bỏ qua {what}: HocSo học theo thứ tự của tổ chức.",
                      "Ignored {what}: HocSo plays items in the organization's order."),
    "scorm_version_assumed": ("Không có metadata/schemaversion; coi là SCORM {version}.",
                              "No metadata/schemaversion; read as SCORM {version}."),
    "scorm_default_organization": ("Tổ chức mặc định “{ref}” không tồn tại; dùng tổ chức đầu tiên.",
                                   "Default organization “{ref}” does not exist; the first one is used."),
    "scorm_item_without_content": ("Mục “{item}” không trỏ tới nội dung nào.", "Item “{item}” points at no content."),
    "scorm_common_cartridge": ("Đây là gói IMS Common Cartridge; HocSo chưa hỗ trợ định dạng này.",
                               "This is an IMS Common Cartridge; HocSo does not support that format yet."),
})

MANIFEST = "imsmanifest.xml"
VERSIONS = {"1.2": "1.2", "cam 1.3": "2004-2", "2004 2nd edition": "2004-2", "2004 3rd edition": "2004-3",
            "2004 4th edition": "2004-4"}
TITLE_MAX = 300
KEY_MAX = 100
_KEY_CHARS = re.compile(r"[^a-z0-9_-]+")
_TIME_LIMIT_ACTIONS = {"exit,message", "exit,no message", "continue,message", "continue,no message"}
RULES = get_args(CompletionRule)


@dataclass
class ScoSpec:
    """One leaf item: a lesson of kind `scorm` and everything its runtime needs."""

    key: str
    title: str
    identifier: str
    line: int
    launch: str  # package path of the file to open (xml:base applied, percent-decoded)
    query: str = ""  # "?a=1" or "#frag": the href's own query plus the item's parameters
    scorm_type: str = "sco"  # or "asset": launched, never talks to the API, complete once opened
    mastery_score: float | None = None  # 1.2, 0-100
    launch_data: str | None = None  # adlcp:datafromlms
    max_time_allowed: str | None = None
    time_limit_action: str | None = None
    completion_threshold: float | None = None  # 2004, 0-1
    scaled_passing_score: float | None = None  # 2004, -1..1 (imsss primary objective, satisfied by measure)
    completion_rule: str = "completed_or_passed"
    attempt_limit: int | None = None  # 2004 imsss:limitConditions attemptLimit; None (or 0 there) is no limit


@dataclass
class ScormModuleSpec:
    title: str
    scos: list[ScoSpec] = field(default_factory=list)


@dataclass
class ScormManifest:
    version: str  # "1.2", "2004-2", "2004-3", "2004-4"
    title: str
    description: str = ""
    modules: list[ScormModuleSpec] = field(default_factory=list)
    notices: list[FieldError] = field(default_factory=list)  # what was ignored or assumed
    files: set[str] = field(default_factory=set)  # package paths the manifest names

    @property
    def scos(self) -> list[ScoSpec]:
        return [sco for module in self.modules for sco in module.scos]

    @property
    def family(self) -> str:
        return "1.2" if self.version == "1.2" else "2004"


def lesson_key(identifier: str, taken: set[str]) -> str:
    """A lesson key (a-z, 0-9, -, _) from the item identifier, the same on every import of the package, so
    learners' progress follows the item across versions."""
    base = _KEY_CHARS.sub("-", search_key(identifier)).strip("-_")[:KEY_MAX - 4] or "sco"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    taken.add(key)
    return key


def _join(base: str, href: str) -> str:
    """xml:base values are folders relative to the one before them (the manifest's folder first)."""
    return base.rstrip("/") + "/" + href if base and not href.startswith("/") else href


class _Reader:
    def __init__(self, file: str, files: set[str]) -> None:
        self.file, self.files = file, files
        self.errors: list[FieldError] = []
        self.notices: list[FieldError] = []
        self.collection: dict[str, Element] = {}  # <imsss:sequencing ID=…> of the sequencingCollection
        self.referenced: set[str] = set()

    def error(self, code: str, line: int | None, **params: object) -> None:
        self.errors.append(FieldError(code, file=self.file, line=line, **params))

    def notice(self, code: str, line: int | None, **params: object) -> None:
        notice = FieldError(code, file=self.file, line=line, **params)
        # a shared sequencing definition is read once per item using it: list what it ignores once
        if not any(known == notice and known.params == notice.params for known in self.notices):
            self.notices.append(notice)

    def version(self, root: Element) -> str:
        metadata = root.find("metadata")
        raw = metadata.child_text("schemaversion") if metadata is not None else None
        if raw:
            version = VERSIONS.get(" ".join(raw.lower().split()))
            if version is None:
                self.error("scorm_version_unknown", metadata.find("schemaversion").line, value=raw[:50])
                return "1.2"
            return version
        # As Moodle does: no schemaversion → the adlcp namespace in use tells 2004 from 1.2.
        namespaces = {ns for el in _walk(root) for ns in [el.ns, *(k[0] for k in el.attrs)]}
        version = "2004-3" if any("adlcp_v1p3" in ns for ns in namespaces) else "1.2"
        self.notice("scorm_version_assumed", root.line, version=version.replace("-", " ed. "))
        return version

    def path(self, base: str, href: str, line: int) -> tuple[str, str] | None:
        """(package path, query-or-fragment) of an href, or None (reported) when it leaves the package."""
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href) or href.startswith("//"):
            self.error("scorm_external_href", line, href=href[:200])
            return None
        cut = min((i for i in (href.find("?"), href.find("#")) if i >= 0), default=len(href))
        raw, query = href[:cut], href[cut:]
        joined = normpath(unquote(_join(base, raw)))
        if joined.startswith("../") or joined == ".." or joined.startswith("/"):
            self.error("scorm_external_href", line, href=href[:200])
            return None
        return joined, query

    def check_file(self, path: str, line: int) -> None:
        if path not in self.files:
            self.error("scorm_missing_file", line, path=path)

    def decimal(self, text: str | None, line: int, name: str, low: float, high: float) -> float | None:
        """A number in [low, high], or None: reported when written and wrong, silent when absent."""
        if text is None or not text.strip():
            return None
        try:
            value = float(text.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            self.error("scorm_bad_value", line, name=name, value=text.strip()[:50])
            return None
        return value


def _walk(element: Element):  # noqa: ANN202
    yield element
    for child in element.children:
        yield from _walk(child)


def _title(element: Element, fallback: str) -> str:
    title = " ".join((element.child_text("title") or "").split())
    return (title or fallback)[:TITLE_MAX]


def _resources(reader: _Reader, root: Element) -> dict[str, tuple[Element, str]]:
    """Resources by identifier, each with its effective xml:base; every named file checked on the way."""
    base_manifest = root.attr(XML_NS, "base") or ""
    found: dict[str, tuple[Element, str]] = {}
    for resources in root.findall("resources"):
        base_resources = _join(base_manifest, resources.attr(XML_NS, "base") or "")
        for resource in resources.findall("resource"):
            identifier = resource.get("identifier")
            if not identifier:
                reader.error("scorm_missing_identifier", resource.line, name="resource")
                continue
            base = _join(base_resources, resource.attr(XML_NS, "base") or "")
            found[identifier] = resource, base
            for file in resource.findall("file"):
                href = file.get("href")
                if href and (target := reader.path(base, href, file.line)):
                    reader.check_file(target[0], file.line)
    return found


def _sco(reader: _Reader, item: Element, resource: Element, base: str, family: str, taken: set[str]) -> ScoSpec | None:
    href = resource.get("href")
    identifier = item.get("identifier") or ""
    if not href:
        reader.error("scorm_resource_no_href", resource.line, ref=resource.get("identifier"))
        return None
    target = reader.path(base, href, resource.line)
    if target is None:
        return None
    launch, query = target
    reader.check_file(launch, resource.line)
    parameters = (item.get("parameters") or "").strip()
    if parameters:  # SCORM CAM: strip the leading ?/& and join with what the href already carries
        if parameters.startswith("#"):
            query = query.split("#")[0] + parameters if "#" not in query else query
        else:
            parameters = parameters.lstrip("?&")
            query = f"{query}&{parameters}" if query.startswith("?") else f"?{parameters}{query}"
    kind = (resource.get("scormtype") or resource.get("scormType") or "sco").strip().lower()
    sco = ScoSpec(key=lesson_key(identifier, taken), title=_title(item, identifier), identifier=identifier,
                  line=item.line, launch=launch, query=query, scorm_type="asset" if kind == "asset" else "sco")
    for child in item.children:
        # 1.2 spells adlcp elements in lower case (datafromlms), 2004 in camel case (dataFromLMS).
        name = child.name.lower()
        if name == "masteryscore":
            sco.mastery_score = reader.decimal(child.text, child.line, "adlcp:masteryscore", 0, 100)
        elif name == "datafromlms":
            sco.launch_data = child.text.strip()[:4096] or None
        elif name == "maxtimeallowed":
            raw = child.text.strip()
            value = normal_timespan_12(raw) if raw and family == "1.2" else raw  # `1:00:00` → `0001:00:00`
            if value is None:
                reader.error("scorm_bad_value", child.line, name="adlcp:maxtimeallowed", value=raw[:50])
            sco.max_time_allowed = value[:50] if value else None
        elif name == "timelimitaction":
            value = child.text.strip().lower()
            if value not in _TIME_LIMIT_ACTIONS:
                reader.error("scorm_bad_value", child.line, name=f"adlcp:{child.name}", value=value[:50])
            else:
                sco.time_limit_action = value
        elif name == "completionthreshold":
            # 2nd/3rd edition: the value is the text; 4th edition: the minProgressMeasure attribute.
            raw = child.get("minProgressMeasure") if child.get("minProgressMeasure") is not None else child.text
            if child.get("completedByMeasure", "true" if child.text.strip() else "false").strip() == "true":
                sco.completion_threshold = reader.decimal(raw or "1.0", child.line,
                                                    "adlcp:completionThreshold", 0, 1)
        elif name == "sequencing":
            read_sequencing(reader, sco, child)
        elif name in ("presentation", "data", "objectives", "prerequisites", "timelimit"):
            reader.notice("scorm_ignored", child.line, what=f"<{child.name}>")
    if sco.mastery_score is not None or sco.scaled_passing_score is not None:
        sco.completion_rule = "completed_or_passed" if family == "1.2" else "completed_and_passed"
    return sco


def _items(reader: _Reader, parent: Element, path: list[str], resources: dict[str, tuple[Element, str]],
           family: str, taken: set[str], modules: list[ScormModuleSpec]) -> None:
    """Leaves directly under `parent` form one module titled by `path`; items with children recurse. In 1.2 an
    item with children may point at content of its own (2004 allows that on leaves only): it is a lesson too,
    played before its children, as the 1.2 LMSs launch it."""
    loose: ScormModuleSpec | None = None
    for item in parent.findall("item"):
        identifier = item.get("identifier")
        if not identifier:
            reader.error("scorm_missing_identifier", item.line, name="item")
            continue
        children = item.findall("item")
        if children and item.get("identifierref") and family != "1.2":
            reader.notice("scorm_ignored", item.line, what=f"identifierref of “{identifier}”")
        elif sco := _leaf(reader, item, identifier, resources, family, taken, quiet=bool(children)):
            if loose is None:
                loose = ScormModuleSpec(title=" › ".join(path)[:TITLE_MAX])
                modules.append(loose)
            loose.scos.append(sco)
        if children:
            loose = None  # leaves after a sub-module start a new module, keeping the order
            _items(reader, item, [*path, _title(item, identifier)], resources, family, taken, modules)


def _leaf(reader: _Reader, item: Element, identifier: str, resources: dict[str, tuple[Element, str]], family: str,
          taken: set[str], *, quiet: bool) -> ScoSpec | None:
    """The lesson of an item pointing at a resource; `quiet` for a parent item, which needs no content."""
    ref = item.get("identifierref")
    if not ref:
        if not quiet:
            reader.notice("scorm_item_without_content", item.line, item=identifier)
        return None
    if ref not in resources:
        reader.error("scorm_missing_resource", item.line, item=identifier, ref=ref)
        return None
    if (item.get("isvisible") or "true").strip() == "false":
        reader.notice("scorm_ignored", item.line, what=f"isvisible=false of “{identifier}”")
    resource, base = resources[ref]
    if quiet and not resource.get("href"):  # a parent's bundle of files is no lesson, and no reason to refuse
        reader.notice("scorm_ignored", item.line, what=f"identifierref of “{identifier}”")
        return None
    return _sco(reader, item, resource, base, family, taken)


def _is_common_cartridge(root: Element) -> bool:
    metadata = root.find("metadata")
    schema = (metadata.child_text("schema") or "") if metadata is not None else ""
    return "imscc" in root.ns.lower() or "common cartridge" in schema.lower()


def read_manifest(data: bytes, files: set[str], *, file: str = MANIFEST, prefix: str = "") -> ScormManifest:
    """The course outline of a SCORM manifest; raises ManifestInvalid listing every problem with its line.

    `files` are the package's paths (relative to the folder holding the manifest); `prefix` is that folder's
    path when the package sits inside a HocSo course, and is added to every reported and returned path.
    """
    reader = _Reader(file, files)
    try:
        root = parse_xml(data)
    except XmlProblem as bad:
        error = FieldError("scorm_xml", file=file, line=bad.line, reason=bad.reason)
        if bad.column is not None:
            error["column"] = bad.column
        raise ManifestInvalid([error]) from None
    if root.name != "manifest":
        raise ManifestInvalid([FieldError("scorm_not_manifest", file=file, line=root.line)])
    if _is_common_cartridge(root):
        raise ManifestInvalid([FieldError("scorm_common_cartridge", file=file, line=root.line)])
    version = reader.version(root)
    family = "1.2" if version == "1.2" else "2004"
    resources = _resources(reader, root)
    organizations = root.find("organizations")
    orgs = organizations.findall("organization") if organizations is not None else []
    if not orgs:
        reader.error("scorm_no_organization", (organizations or root).line)
        raise ManifestInvalid(reader.errors)
    default = organizations.get("default")
    org = next((o for o in orgs if o.get("identifier") == default), None)
    if org is None:
        if default:
            reader.notice("scorm_default_organization", organizations.line, ref=default)
        org = orgs[0]
    for other in orgs:
        if other is not org:
            reader.notice("scorm_ignored", other.line, what=f"<organization identifier=“{other.get('identifier')}”>")
    for child in [*org.children, *(organizations.children if organizations is not None else [])]:
        if child.name in ("sequencing", "sequencingCollection"):
            reader.notice("scorm_ignored", child.line, what=f"<imsss:{child.name}>")
    for child in root.children:
        if child.name == "manifest":
            reader.notice("scorm_ignored", child.line, what=f"<{child.name}>")
        elif child.name == "sequencingCollection":
            reader.collection.update({s.get("ID"): s for s in child.findall("sequencing") if s.get("ID")})
    title = _title(org, "SCORM")
    modules: list[ScormModuleSpec] = []
    _items(reader, org, [title], resources, family, set(), modules)
    for ref, unused in reader.collection.items():
        if ref not in reader.referenced:
            reader.notice("scorm_ignored", unused.line, what=f"<imsss:sequencing ID=“{ref}”>")
    if not modules and not reader.errors:
        reader.error("scorm_no_lessons", org.line, title=title)
    if reader.errors:
        raise ManifestInvalid(reader.errors)
    notices = sorted(reader.notices, key=lambda notice: notice.get("line") or 0)
    manifest = ScormManifest(version=version, title=title, modules=modules, notices=notices)
    for sco in manifest.scos:
        sco.launch = prefix + sco.launch
    return manifest


class ManifestInvalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in imsmanifest.xml")
        self.errors = errors
