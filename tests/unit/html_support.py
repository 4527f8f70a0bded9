"""An HTML page as a browser's parser sees it: element names, attributes and text (the /detective pages and the
case file `investigate --html` writes are read the same way)."""

from __future__ import annotations

from html.parser import HTMLParser


class Elements(HTMLParser):
    """The element names, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Elements:
    p = Elements()
    p.feed(page)
    return p
