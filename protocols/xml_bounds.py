"""Parsing XML from outside within a depth and an element count, on top of defusedxml.

defusedxml refuses DTDs and entities but builds whatever tree it is given: 100,000
nested or 200,000 sibling elements in a 1 MiB body cost a fifth of a second of the
bridge's event loop and a tree of that size. The builder below stops expat at the first
element past a bound, so such a body costs little more than reading up to it.
"""

from typing import Final
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml.ElementTree import DefusedXMLParser


class XmlTooLarge(ValueError):
    """The document nests deeper or holds more elements than allowed."""


class BoundedTreeBuilder(TreeBuilder):
    """A TreeBuilder that raises XmlTooLarge past `max_depth` or `max_elements`."""

    def __init__(self, max_depth: int, max_elements: int) -> None:
        super().__init__()
        self.max_depth = max_depth
        self.max_elements = max_elements
        self._depth = 0
        self._elements = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        """Count the element; refuse it past a bound, before it is built."""
        self._depth += 1
        self._elements += 1
        if self._depth > self.max_depth:
            raise XmlTooLarge(f"elements nest deeper than {self.max_depth}")
        if self._elements > self.max_elements:
            raise XmlTooLarge(f"more than {self.max_elements} elements")
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        """Leave the element."""
        self._depth -= 1
        return super().end(tag)


FORBID: Final = {"forbid_dtd": True, "forbid_entities": True, "forbid_external": True}


def parse_bounded(body: bytes, max_depth: int, max_elements: int) -> Element:
    """The root of `body`; defusedxml's errors, ParseError, or XmlTooLarge past a bound."""
    parser = DefusedXMLParser(target=BoundedTreeBuilder(max_depth, max_elements), **FORBID)
    parser.feed(body)
    root: Element = parser.close()
    return root
