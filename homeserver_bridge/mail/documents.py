"""The words of a letter written in Word (.docx) or LibreOffice (.odt) and attached to a
mail. Pure; never raises: a file that cannot be read is only named by the parser."""

from __future__ import annotations

import html
import io
import re
import zipfile

from homeserver_bridge.mail.html_text import clean_text

# A letter written in Word or LibreOffice: zipped XML, its words found by pattern, never
# parsed (no entities, no references followed); past this size unzipped only named. The
# size is the mail's in all (the parser keeps the count): up to 200 of them, each of 8 MiB
# from a zip of 8 KB, took gigabytes to read.
_DOCUMENTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        "word/document.xml",
    "application/vnd.oasis.opendocument.text": "content.xml",
}
_DOCUMENT_SUFFIXES = {".docx": "word/document.xml", ".odt": "content.xml"}
MAX_DOCUMENT_XML = 8 * 1024 * 1024
# Word's field codes and deleted words are no text the reader sees; LibreOffice's comments
# and tracked changes name their author (the name the youth's program was set up with).
# The name whole: <office:annotation-end/>, which ends a comment on a passage, is no comment.
# A tag's inside is [^<>]*, never [^>]*: a "<" without its ">" made each pattern search to
# the end of the file from every one, time quadratic in up to 8 MiB (`_without_hidden`).
_DOCUMENT_HIDDEN = re.compile(r"<(w:instrText|w:delText|office:annotation|text:tracked-changes"
                              r"|dc:creator)(?=[\s/>])[^<>]*>")
_DOCUMENT_BREAK = re.compile(r"</w:p>|<w:(?:br|cr)\b[^<>]*/>|</text:[ph]>|<text:line-break\s*/>")
_DOCUMENT_TAB = re.compile(r"<w:tab\b[^<>]*/>|<text:tab\b[^<>]*/>")
_ODT_SPACE = re.compile(r"<text:s\b[^<>]*/>")
_DOCX_TEXT = re.compile(r"<w:t(?:\s[^<>]*)?>([^<]*)</w:t>|(\n|\t)")
_TAG = re.compile(r"<[^<>]*>")


def document_member(ctype: str, name: str) -> str:
    """Where a Word or LibreOffice file keeps its words ("" for another file); by its name
    when it comes as application/octet-stream, as from phones."""
    if ctype == "application/octet-stream":
        return next((member for suffix, member in _DOCUMENT_SUFFIXES.items()
                     if name.lower().endswith(suffix)), "")
    return _DOCUMENTS.get(ctype, "")


def document_text(data: object, member: str, left: int) -> tuple[str, int] | None:
    """The words of a Word (.docx) or LibreOffice (.odt) letter and how many bytes were
    unzipped for them, or None if it cannot be read (not such a file, encrypted, broken, or
    more than ``left`` bytes unzipped, what is left of the mail's `MAX_DOCUMENT_XML`): then
    it is only named."""
    if not isinstance(data, bytes):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(member) as file:
            # Read bounded: the size a zip states for a member is not checked while reading.
            xml = file.read(left + 1)
    except Exception:  # whatever is wrong with the file, it is only named
        return None
    if len(xml) > left:
        return None
    text = _without_hidden(xml.decode("utf-8", "replace"))
    text = _DOCUMENT_TAB.sub("\t", _DOCUMENT_BREAK.sub("\n", text))
    text = _ODT_SPACE.sub(" ", text)
    if member == "word/document.xml":
        # Only the runs' text: Word keeps much else between tags.
        text = "".join(m.group(1) or m.group(2) or "" for m in _DOCX_TEXT.finditer(text))
    return clean_text(html.unescape(_TAG.sub("", text))).strip(), len(xml)


def _without_hidden(xml: str) -> str:
    """The document without its hidden elements (`_DOCUMENT_HIDDEN`), in time linear in
    its length: an element whose end is not found is not looked for again, and its words
    are kept, as a reader's program that opens the file would show them."""
    kept: list[str] = []
    unclosed: set[str] = set()
    at = 0
    for opening in _DOCUMENT_HIDDEN.finditer(xml):
        if opening.start() < at:
            continue  # inside an element left out already
        name, closing = opening.group(1), f"</{opening.group(1)}>"
        kept.append(xml[at:opening.start()])
        at = opening.end()
        if opening.group().endswith("/>") or name in unclosed:
            continue
        end = xml.find(closing, at)
        if end < 0:
            unclosed.add(name)
        else:
            at = end + len(closing)
    kept.append(xml[at:])
    return "".join(kept)
