"""What the index sees of a passage: the text BM25 tokenises and the text the embedder encodes.

Both are written at ingest time and must be the same for every store, so they live here, once.
"""

from __future__ import annotations

from ..schema import Passage
from ..text import searchable_text

EMBED_CONTEXTS = ("none", "path", "title_path")


def lexical_text(passage: Passage) -> str:
    """What BM25 indexes for a passage: its section path, then its text (measured: +0.03 MRR)."""
    text = searchable_text(passage.text)
    return " ".join(passage.section_path) + "\n" + text if passage.section_path else text


def embedding_text(passage: Passage, context: str) -> str:
    """What the embedder sees for a passage: its text, optionally after its title/section path."""
    text = searchable_text(passage.text)
    if context == "none" or (context == "path" and not passage.section_path):
        return text
    head = list(passage.section_path[-2:])
    if context == "title_path":
        head = [passage.title, *head]
    return " ".join(head) + "\n" + text
