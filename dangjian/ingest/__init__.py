"""Ingest: ``path -> Document -> Sections -> Passages``.

Each arrow is a plain function: ``load_document``/``iter_documents``, ``split_sections``,
``chunk_sections``.
"""

from .chunking import DEFAULT_MAX_CHARS, DEFAULT_TARGET_CHARS, chunk_sections
from .loaders import SUPPORTED_SUFFIXES, iter_documents, load_document
from .structure import section_at, split_sections

__all__ = [
    "DEFAULT_MAX_CHARS",
    "DEFAULT_TARGET_CHARS",
    "SUPPORTED_SUFFIXES",
    "chunk_sections",
    "iter_documents",
    "load_document",
    "section_at",
    "split_sections",
]
