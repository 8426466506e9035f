"""A small reading of rendered HTML for assertions: headings, links, resources, forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Outline:
    lang: str = ""
    headings: list[tuple[int, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    inputs: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    scripts: int = 0
    inline_styles: int = 0
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = Outline()
        self._heading: int | None = None
        self._heading_text: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "style" in values:
            self.outline.inline_styles += 1
        if tag == "html":
            self.outline.lang = values.get("lang", "")
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = int(tag[1])
            self._heading_text = []
        elif tag == "a":
            self.outline.links.append(values)
        elif tag == "link":
            self.outline.resources.append(values.get("href", ""))
        elif tag == "img":
            self.outline.images.append(values)
            self.outline.resources.append(values.get("src", ""))
        elif tag == "script":
            self.outline.scripts += 1
        elif tag == "form":
            self.outline.forms.append(values)
        elif tag in ("input", "button"):
            self.outline.inputs.append({"tag": tag, **values})

    def handle_endtag(self, tag: str) -> None:
        if self._heading is not None and tag == f"h{self._heading}":
            text = " ".join("".join(self._heading_text).split())
            self.outline.headings.append((self._heading, text))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading_text.append(data)
        self._text.append(data)

    def close(self) -> None:
        super().close()
        self.outline.text = " ".join("".join(self._text).split())


def outline(html: str) -> Outline:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.outline
