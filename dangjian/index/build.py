"""A change to an index, prepared once for any store: the passages to add (embedded and
tokenised), the documents to remove, the new dictionary and manifest.

``KnowledgeBase`` decides what changes; ``prepare_change`` does the store-independent work;
the store's ``commit(change)`` writes it (``IndexStore`` as a new local version, ``MilvusStore``
as a new generation). Neither the knowledge base nor this module asks which store it has.
"""

from __future__ import annotations

import ctypes
import gc
import inspect
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__
from ..ingest.names import merge_names
from ..schema import Document, Passage, Section
from ..text import Tokenizer, dictionary_hash, normalize
from .calibration import calibrate_abstention
from .embedders import Embedder
from .lexical import TokenTable
from .texts import embedding_text, lexical_text

# progress(stage, done, total): stage is "parse" (files), "embed" (passages) or "write" (the
# switch to the new version, 0/1 then 1/1); ``dangjian.progress`` shows it
Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64  # passages per call for an embedder that cannot report progress itself


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
    embedder: Embedder,
    passages: list[Passage],
    context: str,
    progress: Progress | None = None,
    cache: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The passages' vectors, float32 (n, dim), reporting progress. An embedder whose
    ``embed_passages`` takes ``progress`` gets all texts in one call (the torch engine sorts
    them by length); any other gets batches of ``EMBED_BATCH``. ``cache`` (text → vector):
    texts found there are not embedded again, and new vectors are added to it (a write that has
    to start again from a newer version re-embeds nothing)."""
    total = len(passages)
    texts = [embedding_text(p, context) for p in passages]
    out = np.empty((total, embedder.dimension), dtype=np.float32)
    todo = list(range(total))
    if cache is not None:
        todo = [i for i in todo if texts[i] not in cache]
        for i in set(range(total)) - set(todo):
            out[i] = cache[texts[i]]
    known = total - len(todo)

    def tell(done: int) -> None:
        if progress:
            progress("embed", known + done, total)

    tell(0)
    wanted = [texts[i] for i in todo]
    if wanted and "progress" in inspect.signature(embedder.embed_passages).parameters:
        vectors = embedder.embed_passages(wanted, progress=tell)
    else:
        vectors = np.empty((len(wanted), embedder.dimension), dtype=np.float32)
        for i in range(0, len(wanted), EMBED_BATCH):
            vectors[i : i + EMBED_BATCH] = embedder.embed_passages(wanted[i : i + EMBED_BATCH])
            tell(min(i + EMBED_BATCH, len(wanted)))
    if todo:
        out[todo] = vectors
    if cache is not None:
        cache.update(zip(wanted, out[todo]))
    tell(len(todo))
    return out


class _Tokens(Sequence):
    """The new passages' tokens, read back one passage at a time from a ``TokenTable``."""

    def __init__(self, table: TokenTable):
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, row):
        return self.table.tokens(row)

    def __iter__(self):
        return (self.table.tokens(row) for row in range(len(self.table)))


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
    cache: dict[str, np.ndarray] | None = None,
) -> ChangeSet:
    """Embed and tokenise the new passages and describe the result for a store's ``commit``.

    The BM25 tokens are made in a helper thread while the passages are embedded: jieba is
    Python, the torch engine multiplies without the interpreter lock, so the two overlap.
    """
    names = dictionary(old, new_docs, removed)
    tokenizer = Tokenizer(extra_words=names)
    table = TokenTable()  # token ids, not Python strings: ~1 GB less at 100k passages

    def tokenize() -> _Tokens:
        for p in new_passages:
            table.add(tokenizer.tokenize(lexical_text(p)))
        return _Tokens(table)

    with ThreadPoolExecutor(1, thread_name_prefix="bm25-tokens") as pool:
        tokens = pool.submit(tokenize)
        vectors = embed_passages(embedder, new_passages, embed_context, progress, cache)
        tokens = tokens.result()
    identity = embedder.identity()
    engines = set(old.manifest.get("passage_engines", [])) if old is not None else set()
    engines.add(identity.get("passage_engine") or identity["name"])
    return ChangeSet(
        old=old,
        new_docs=new_docs,
        new_passages=new_passages,
        vectors=vectors,
        tokens=tokens,
        removed=removed,
        names=names,
        tokenizer=tokenizer,
        manifest={
            "dangjian_version": __version__,
            "dictionary_hash": dictionary_hash(names),
            "chunking": chunking,
            "embed_context": embed_context,
            "embedder": identity,
            "passage_engines": sorted(engines),  # every engine whose vectors the index holds
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
