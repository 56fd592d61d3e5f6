"""What ingest stores about a document besides its text: its sections (with their roles), the names it coins
(tokenizer dictionary) and the working methods it describes (method cards). ``dangjian inspect``
shows the same."""

from __future__ import annotations

from ..schema import Document, Section
from .methods import aliases, find_methods, promised_count
from .names import find_names, is_method_like
from .roles import assign_roles
from .structure import split_sections


def describe(doc: Document) -> list[Section]:
    """``doc``'s sections; its names and methods kept in ``doc.metadata`` (``names``, ``methods``)."""
    doc.metadata["names"] = find_names(doc.text)
    sections = split_sections(doc)
    assign_roles(doc, sections)
    describe_methods(doc, sections)
    return sections


def describe_methods(doc: Document, sections: list[Section]) -> None:
    """Keep the working methods ``doc`` names (for method cards) in its metadata; their names and
    short forms (五共理念, 十联) join the document's names, and so the tokenizer's dictionary."""
    methods = find_methods(doc, sections)
    doc.metadata["methods"] = [m.to_dict() for m in methods]
    forms = [f for m in methods for f in (m.name, *aliases(m.name)) if is_method_like(f) or promised_count(f)]
    doc.metadata["names"] = list(dict.fromkeys([*doc.metadata.get("names", []), *forms]))
