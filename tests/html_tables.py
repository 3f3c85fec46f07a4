"""Reading server-rendered pages in tests with the standard library: table cells by table id, and the text of
elements marked with `data-figure` inside a `data-audience` block."""

from html.parser import HTMLParser


class PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[tuple[str, str], str] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self._audience: str | None = None
        self._figure: tuple[str, str] | None = None
        self._figure_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._table and self._in_body:
            self._cell = []
        if a.get("data-audience"):
            self._audience = a["data-audience"]
        if a.get("data-figure") and self._audience:
            self._figure, self._figure_text = (self._audience, a["data-figure"]), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        if self._figure and tag in ("span", "strong"):
            self.figures[self._figure] = "".join(self._figure_text).strip()
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._figure:
            self._figure_text.append(data)


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


def vi_int(text: str) -> int:
    """'12.345' (Vietnamese thousands) as 12345."""
    return int(text.replace(".", ""))
