"""Conversations on disk: one JSON file per conversation in a folder beside the index
(``<index_dir>/conversations/<id>.json``), each written atomically.

A conversation belongs to the key that created it (its key id, never the secret); an anonymous
one (owner ``None``) is reached only by its id, which is unguessable (``secrets.token_urlsafe``)
and never listed. Only ids of the form ``new_id`` makes become paths: nothing a user types does.
A conversation not updated for ``days`` has expired: reads and lists treat it as gone and delete
it, and ``sweep`` removes every expired one. Each keeps its last ``max_turns`` turns, each turn's
answer and citations capped (``MAX_ANSWER_CHARS``, ``MAX_CITATIONS``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FOLDER = "conversations"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
MAX_ANSWER_CHARS = 20_000
MAX_CITATIONS = 50
MAX_QUOTE_CHARS = 2_000
DEFAULT_DAYS = 30.0
DEFAULT_MAX_TURNS = 50
SWEEP_EVERY = 1000  # new conversations between sweeps of a running service (one at start too)
TURN_FIELDS = ("question", "resolved", "answer", "layout", "citations", "abstained")
CITATION_FIELDS = (
    "marker",
    "passage_id",
    "doc_id",
    "title",
    "section_path",
    "quote",
    "start",
    "end",
    "page",
    "citation",
)


def new_id() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 random bits


def valid_id(cid: str) -> bool:
    return isinstance(cid, str) and bool(ID_RE.match(cid))


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@dataclass
class Conversation:
    id: str
    owner: str | None  # the creating key's id; None: anonymous
    created: float
    updated: float
    turns: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """What the API shows: no owner, times as ISO 8601."""
        return {"id": self.id, "created": iso(self.created), "updated": iso(self.updated), "turns": self.turns}


def stored_turn(
    question: str, resolved: str | None, answer: str, layout: str, citations: list[dict[str, Any]], abstained: bool
) -> dict[str, Any]:
    """A turn as kept: the answer and its citations, capped in size."""
    cites = []
    for c in citations[:MAX_CITATIONS]:
        row = {k: c.get(k) for k in CITATION_FIELDS}
        row["quote"] = (row["quote"] or "")[:MAX_QUOTE_CHARS]
        cites.append(row)
    return {
        "question": question,
        "resolved": resolved,
        "answer": answer[:MAX_ANSWER_CHARS],
        "layout": layout,
        "citations": cites,
        "abstained": abstained,
    }


class ConversationStore:
    """The conversations of one knowledge base (see the module's docstring)."""

    def __init__(
        self,
        home: str | Path,
        *,
        days: float = DEFAULT_DAYS,
        max_turns: int = DEFAULT_MAX_TURNS,
        clock: Callable[[], float] = time.time,
    ):
        self.folder = Path(home) / FOLDER
        self.days = days
        self.max_turns = max_turns
        self.clock = clock
        self._lock = threading.Lock()
        self._created = 0

    def _path(self, cid: str) -> Path:
        if not valid_id(cid):  # never reached with another id; a guard all the same
            raise ValueError("invalid conversation id")
        return self.folder / f"{cid}.json"

    def _expired(self, conv: Conversation) -> bool:
        return conv.updated + self.days * 86400 < self.clock()

    def _read(self, path: Path) -> Conversation | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Conversation(**{k: data[k] for k in ("id", "owner", "created", "updated", "turns")})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, conv: Conversation) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(conv.to_dict(), f, ensure_ascii=False)
            os.utime(tmp, (conv.updated, conv.updated))  # a sweep reads only the old ones
            os.replace(tmp, self._path(conv.id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def new(self, owner: str | None) -> Conversation:
        now = self.clock()
        return Conversation(new_id(), owner, now, now)  # written with its first turn

    def get(self, cid: str | None, owner: str | None) -> Conversation | None:
        """The conversation ``cid`` when it is ``owner``'s and has not expired; else ``None``
        (unknown, expired and another's look the same)."""
        if not cid or not valid_id(cid):
            return None
        path = self._path(cid)
        conv = self._read(path) if path.is_file() else None
        if conv is None or conv.id != cid:
            return None
        if self._expired(conv):
            path.unlink(missing_ok=True)
            return None
        return conv if conv.owner == owner else None

    def add_turn(self, conv: Conversation, turn: dict[str, Any]) -> Conversation:
        """Append ``turn`` (``stored_turn``), keeping the last ``max_turns``, and save."""
        first = not conv.turns
        conv.turns = [*conv.turns, turn][-self.max_turns :]
        conv.updated = self.clock()
        # written outside the lock: each request holds its own copy of a conversation, and a
        # file is replaced whole; the lock guards only the count of new ones
        self._write(conv)
        with self._lock:
            self._created += first
            sweep = first and self._created % SWEEP_EVERY == 0
        if sweep:
            self.sweep()
        return conv

    def delete(self, cid: str, owner: str | None) -> bool:
        conv = self.get(cid, owner)
        if conv is None:
            return False
        self._path(cid).unlink(missing_ok=True)
        return True

    def recent(self, owner: str | None, limit: int = 20) -> list[Conversation]:
        """A key's conversations, most recently updated first; none for anonymous callers."""
        if owner is None or not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob("*.json"):
            if not valid_id(path.stem):
                continue
            conv = self._read(path)
            if conv is None or conv.owner != owner:
                continue
            if self._expired(conv):
                path.unlink(missing_ok=True)
                continue
            found.append(conv)
        return sorted(found, key=lambda c: c.updated, reverse=True)[:limit]

    def sweep(self) -> int:
        """Delete every expired conversation (and stray temporary files); how many were deleted."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.glob("*.json"):
            if path.name.startswith(".tmp-"):
                try:  # another request's file being written: renamed away at any moment
                    if path.stat().st_mtime + 3600 < time.time():
                        path.unlink(missing_ok=True)
                except OSError:
                    pass
                continue
            try:
                recent = path.stat().st_mtime + self.days * 86400 >= self.clock()  # mtime: its update
            except OSError:
                continue
            conv = None if recent else self._read(path)
            if conv is not None and self._expired(conv):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
