"""Index: the on-disk index directory (documents, passages, dictionary), written atomically.

The retrieval issue adds dense vectors and BM25 files beside these.
"""

from .store import FORMAT_VERSION, IndexStore, IndexVersion

__all__ = ["FORMAT_VERSION", "IndexStore", "IndexVersion"]
