"""Safe HTML from authors' text: imported question banks carry plain, markdown or HTML texts, and every one
of them reaches a learner's browser only as HTML sanitised by Ammonia (nh3): no script, event handler, style
or `javascript:` URL survives, whatever the format claimed.
"""

import html

import nh3
from markdown_it import MarkdownIt

FORMATS = ("plain", "markdown", "html")
# Raw HTML inside markdown is kept here and removed by the sanitiser below, like any other HTML.
_markdown = MarkdownIt("commonmark", {"html": True})


def sanitise_html(text: str) -> str:
    """Ammonia's default allow-list: formatting, lists, tables, links (rel=noopener) and images, with http(s)
    or relative URLs only."""
    return nh3.clean(text)


def render_text(text: str, text_format: str, *, inline: bool = False) -> str:
    """`text` written in `text_format` as sanitised HTML. Plain text keeps its line breaks; `inline` renders
    markdown without a wrapping paragraph (choices and matching items)."""
    if text_format == "html":
        rendered = text
    elif text_format == "markdown":
        rendered = _markdown.renderInline(text) if inline else _markdown.render(text)
    else:
        rendered = html.escape(text, quote=False).replace("\n", "<br>")
    return sanitise_html(rendered).strip()


def plain_text(text: str, text_format: str) -> str:
    """What a text says without markup (titles in errors, answers compared as text)."""
    if text_format != "html":
        return text.strip()
    return " ".join(html.unescape(nh3.clean(text, tags=set())).split())
