"""Safe XML parsing for diagrams uploaded by users (no DTDs, no entities, no network, bounded size).

SpiffWorkflow's `add_bpmn_str` / `add_bpmn_file` parse with lxml's default parser. On lxml 6 that
refuses external entities and caps entity amplification, but it still reads DTDs and expands
internal entities, and older lxml versions resolved external ones. So we parse here, with every
dangerous feature off, and hand SpiffWorkflow the finished tree (`add_bpmn_xml`).
"""
from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 5_000_000

# A DOCTYPE is the only way to declare entities; BPMN never needs one, so any DOCTYPE is refused.
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlRejected(ValueError):
    """Base class: the document cannot be accepted."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class UnsafeXml(XmlRejected):
    """The document is too large or declares a DOCTYPE / entities (XXE, billion laughs)."""


class MalformedXml(XmlRejected):
    """The document is not well-formed XML."""


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers keep state and must not be shared between threads.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )


def _text_for_scan(data: bytes) -> bytes:
    """The document as ASCII-compatible bytes, so a UTF-16/32 DOCTYPE is found too."""
    head = data[:4]
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                       (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return data.decode(codec, "replace").encode("utf-8", "replace")
    if b"\x00" in head:  # UTF-16/32 without a BOM: drop the zero bytes of ASCII characters
        return data.replace(b"\x00", b"")
    return data


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse untrusted XML bytes safely; raise UnsafeXml or MalformedXml instead of parsing danger."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    data = bytes(data)
    if len(data) > max_bytes:
        raise UnsafeXml(f"document is {len(data)} bytes, larger than the limit of {max_bytes} bytes")
    # Refuse before libxml2 sees the DTD at all: nothing in it is ever read or expanded.
    scan = _text_for_scan(data)
    found = _DOCTYPE.search(scan)
    if found:
        line = scan.count(b"\n", 0, found.start()) + 1
        raise UnsafeXml("document declares a DOCTYPE or entities, which are not allowed", line)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        # Only libxml2's own text and position: never echo document content (it could be an entity).
        msg = (e.msg or "not well-formed XML").split("\n")[0]
        msg = re.sub(r",? line \d+, column \d+.*$", "", msg)
        raise MalformedXml(f"malformed XML: {msg}", e.lineno or None) from None
    except ValueError as e:  # e.g. a str with an encoding declaration
        raise MalformedXml(f"malformed XML: {e}") from None
    if root is None:
        raise MalformedXml("malformed XML: document is empty", 1)
    tree = root.getroottree()
    # Belt and braces: an encoding the byte scan could not see through must still not get by.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml("document declares a DOCTYPE or entities, which are not allowed")
    return tree
