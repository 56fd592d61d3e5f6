"""党建知识库 dangjian: cited retrieval over Chinese Party-building documents."""

from .schema import Block, Document, PageSpan, Passage, Section

__version__ = "0.1.0"

__all__ = ["Block", "Document", "PageSpan", "Passage", "Section", "__version__"]
