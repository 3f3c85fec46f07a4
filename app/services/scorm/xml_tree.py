"""A small element tree of an uploaded XML file, parsed with defusedxml (no DTD entities, no external
resources) and keeping each element's line, so every problem in a manifest can name its line.

The standard ElementTree drops line numbers, so the tree is built from SAX events with the parser's locator.
"""

from dataclasses import dataclass, field
from io import BytesIO
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_external_ges, feature_external_pes, feature_namespaces
from xml.sax.xmlreader import InputSource

from defusedxml.common import DefusedXmlException
from defusedxml.sax import make_parser

XML_NS = "http://www.w3.org/XML/1998/namespace"


@dataclass
class Element:
    ns: str  # namespace URI, "" when none
    name: str  # local name
    line: int
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)  # (namespace URI, local name) -> value
    children: list["Element"] = field(default_factory=list)
    text: str = ""

    def get(self, name: str, default: str | None = None) -> str | None:
        """An attribute by local name whatever its namespace (manifests mix prefixes freely)."""
        for (_, local), value in self.attrs.items():
            if local == name:
                return value
        return default

    def attr(self, ns: str, name: str) -> str | None:
        return self.attrs.get((ns, name))

    def find(self, name: str) -> "Element | None":
        return next((c for c in self.children if c.name == name), None)

    def findall(self, name: str) -> list["Element"]:
        return [c for c in self.children if c.name == name]

    def child_text(self, name: str) -> str | None:
        child = self.find(name)
        return child.text.strip() if child is not None else None


class XmlProblem(Exception):
    """The file is not well-formed XML, or uses what uploads may not (entities, external references).
    `column` counts from 1, as editors do (the parser's own count starts at 0)."""

    def __init__(self, reason: str, line: int | None, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line, self.column = reason, line, column


class _Builder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[Element] = []
        self.root: Element | None = None
        self.locator = None

    def setDocumentLocator(self, locator) -> None:  # noqa: N802, ANN001 - SAX's names
        self.locator = locator

    def startElementNS(self, name, qname, attrs) -> None:  # noqa: N802, ANN001
        ns, local = name
        element = Element(ns=ns or "", name=local, line=self.locator.getLineNumber() if self.locator else 0,
                          attrs={(k[0] or "", k[1]): v for k, v in attrs.items()})
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def endElementNS(self, name, qname) -> None:  # noqa: N802, ANN001
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text += content


def parse_xml(data: bytes) -> Element:
    """The document's root element; raises XmlProblem with the parser's line (and, for a syntax error, its
    column) for anything unsafe or broken."""
    parser = make_parser()  # forbids entity declarations and external entities
    parser.setFeature(feature_namespaces, True)
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    builder = _Builder()
    parser.setContentHandler(builder)
    source = InputSource()
    source.setByteStream(BytesIO(data))
    try:
        parser.parse(source)
    except SAXParseException as exc:
        raise XmlProblem(exc.getMessage(), exc.getLineNumber(), exc.getColumnNumber() + 1) from None
    except DefusedXmlException as exc:
        line = builder.locator.getLineNumber() if builder.locator else None
        raise XmlProblem(type(exc).__name__, line) from None
    if builder.root is None:
        raise XmlProblem("no element", 1)
    return builder.root
