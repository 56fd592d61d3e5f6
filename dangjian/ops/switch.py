"""Making a finished version folder the current version of an index home (under its write lock)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from ..index.store import IndexStore, _fsync_dir, _fsync_tree


def switch_version(store: IndexStore, folder: Path) -> str:
    """Rename ``folder`` (inside ``store.versions_dir``, complete) to the next version name and
    point CURRENT at it, the way ``IndexStore.write`` does. Only under ``store.write_lock()``."""
    _fsync_tree(folder)
    name = f"v{store._last_number() + 1:06d}"
    os.rename(folder, store.versions_dir / name)
    _fsync_dir(store.versions_dir)
    pointer = store.home / f"CURRENT.{uuid.uuid4().hex}.tmp"
    with open(pointer, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, store.home / "CURRENT")
    _fsync_dir(store.home)
    store._collect_garbage(keep=name)
    return name
