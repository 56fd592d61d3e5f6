"""A change to an index, prepared once for any store: the passages to add (embedded and
tokenised), the documents to remove, the new dictionary and manifest.

``KnowledgeBase`` decides what changes; ``prepare_change`` does the store-independent work;
the store's ``commit(change)`` writes it (``IndexStore`` as a new local version, ``MilvusStore``
as a new generation). Neither the knowledge base nor this module asks which store it has.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__
from ..ingest.names import merge_names
from ..schema import Document, Passage, Section
from ..text import Tokenizer, dictionary_hash, normalize
from .calibration import calibrate_abstention
from .embedders import Embedder
from .texts import embedding_text, lexical_text

# progress(stage, done, total): stage is "parse" (files) or "embed" (passages)
Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64


@dataclass
class ChangeSet:
    """What a write changes. ``old`` is the version it starts from (None: everything is
    rewritten); ``vectors`` and ``tokens`` belong to ``new_passages``, row by row."""

    old: Any
    new_docs: list[tuple[Document, list[Section]]]
    new_passages: list[Passage]
    vectors: np.ndarray
    removed: set[str]
    names: list[str]
    tokenizer: Tokenizer
    manifest: dict[str, Any]
    calibrate: Callable[[Any], dict[str, Any]]  # a retrieval over the new content -> abstention calibration
    tokens: Sequence[list[str]] | None = None  # the new passages' tokens when already known (migrate)

    def tokenize(self, passage: Passage) -> list[str]:
        """A passage's BM25 tokens under the new dictionary."""
        return self.tokenizer.tokenize(lexical_text(passage))

    def new_tokens(self) -> Iterator[list[str]]:
        """The new passages' tokens, one passage at a time: held all at once as Python strings
        they would take ~1 GB at 100k passages (a store keeps them compactly)."""
        if self.tokens is not None:
            yield from self.tokens
        else:
            yield from map(self.tokenize, self.new_passages)

    def changed_names(self) -> list[str]:
        """Names added to or dropped from the dictionary (as written and normalised): kept
        passages that mention one are re-tokenised."""
        if self.old is None:
            return []
        changed = set(self.names) ^ set(self.old.names())
        return sorted(changed | {normalize(n).lower() for n in changed})


def embed_passages(
    embedder: Embedder, passages: list[Passage], context: str, progress: Progress | None = None
) -> np.ndarray:
    """The passages' vectors, float32 (n, dim), in batches that report progress."""
    batches = []
    for i in range(0, len(passages), EMBED_BATCH):
        if progress:
            progress("embed", i, len(passages))
        batch = passages[i : i + EMBED_BATCH]
        batches.append(embedder.embed_passages([embedding_text(p, context) for p in batch]))
    if progress:
        progress("embed", len(passages), len(passages))
    if not batches:
        return np.empty((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(batches).astype(np.float32, copy=False)


def dictionary(old, new_docs: list[tuple[Document, list[Section]]], removed: set[str]) -> list[str]:
    """The names of the documents a write keeps and adds: the tokenizer's extra words."""
    names_by_doc: dict[str, list[str]] = {}
    if old is not None:
        names_by_doc = {i["doc_id"]: i.get("names", []) for i in old.iter_document_info() if i["doc_id"] not in removed}
    names_by_doc.update({doc.doc_id: doc.metadata.get("names", []) for doc, _ in new_docs})
    return merge_names(*names_by_doc.values())


def prepare_change(
    old,
    new_docs: list[tuple[Document, list[Section]]],
    new_passages: list[Passage],
    removed: set[str],
    *,
    embedder: Embedder,
    embed_context: str,
    chunking: dict[str, int],
    progress: Progress | None = None,
) -> ChangeSet:
    """Embed and tokenise the new passages and describe the result for a store's ``commit``."""
    names = dictionary(old, new_docs, removed)
    tokenizer = Tokenizer(extra_words=names)
    vectors = embed_passages(embedder, new_passages, embed_context, progress)
    return ChangeSet(
        old=old,
        new_docs=new_docs,
        new_passages=new_passages,
        vectors=vectors,
        removed=removed,
        names=names,
        tokenizer=tokenizer,
        manifest={
            "dangjian_version": __version__,
            "dictionary_hash": dictionary_hash(names),
            "chunking": chunking,
            "embed_context": embed_context,
            "embedder": embedder.identity(),
        },
        calibrate=lambda retrieval: calibrate_abstention(retrieval, tokenizer, embedder),
    )


def release_memory() -> None:
    """Collect garbage and return free heap pages to the system (glibc keeps them otherwise)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
