"""API keys: created with ``dangjian keys create``, stored hashed beside the index (``keys.json``).

A key is ``dj_<id>_<secret>``; only the SHA-256 of the whole key is kept, so a leaked keys file
gives no usable key. Roles: ``reader`` (search, ask, documents), ``cite`` (like reader, but never a
whole document), ``editor`` (also uploads and deletes), ``admin`` (everything). A key limited to
some collections never sees anything of the others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import DangjianError
from ..naming import check_collection_name

log = logging.getLogger("dangjian.service")

ROLES = ("reader", "cite", "editor", "admin")
WRITERS = ("editor", "admin")
KEYS_FILE = "keys.json"


@dataclass
class Principal:
    """Who is asking: a role and, for a limited key, the collections it may see."""

    role: str
    collections: list[str] | None = None  # None: every collection
    key_id: str | None = None  # None: an anonymous reader (reads open)

    def sees(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS

    @property
    def can_read_documents(self) -> bool:
        return self.role != "cite"


ANONYMOUS = Principal("reader")


@dataclass
class KeyRecord:
    key_id: str
    role: str
    digest: str
    collections: list[str] | None = None
    name: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The keys of one index home. Reads the file again when it changes (keys created while the
    service runs take effect at once)."""

    def __init__(self, home: str | Path):
        self.path = Path(home) / KEYS_FILE
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._records: dict[str, KeyRecord] = {}
        self._broken: float | None = None  # the mtime of a broken file already logged

    def check(self) -> bool:
        """Whether the keys file can be read (a broken one is logged as an error)."""
        try:
            self._load()
        except DangjianError:
            return False
        return True

    def _load(self) -> dict[str, KeyRecord]:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                self._mtime, self._records = None, {}
                return self._records
            if mtime != self._mtime:
                try:
                    rows = json.loads(self.path.read_text(encoding="utf-8"))
                    records = {r["key_id"]: KeyRecord(**r) for r in rows}
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    if self._broken != mtime:
                        log.error(
                            "API keys file %s is broken (%s: %s): keyed requests answer 503 until it is fixed",
                            self.path,
                            type(exc).__name__,
                            exc,
                        )
                        self._broken = mtime
                    raise DangjianError(
                        "API 密钥文件 keys.json 已损坏，暂时无法验证密钥；请管理员检查或重新创建密钥",
                        code="keys_unavailable",
                    ) from None
                self._records, self._mtime, self._broken = records, mtime, None
            return self._records

    def records(self) -> list[KeyRecord]:
        return list(self._load().values())

    def create(self, role: str, collections: list[str] | None = None, name: str = "") -> str:
        """A new key (returned once, never stored in clear)."""
        if role not in ROLES:
            raise DangjianError(f"不认识的角色：{role}；可选 {'、'.join(ROLES)}", code="bad_role")
        if collections:
            collections = [check_collection_name(c) for c in collections]
        key_id = secrets.token_hex(4)
        key = f"dj_{key_id}_{secrets.token_urlsafe(24)}"
        record = KeyRecord(key_id, role, _digest(key), sorted(set(collections)) if collections else None, name)
        self._write([*self.records(), record])
        return key

    def revoke(self, key_id: str) -> None:
        records = self.records()
        if not any(r.key_id == key_id for r in records):
            raise DangjianError(f"没有编号为 {key_id} 的密钥（dangjian keys list 查看）", code="key_not_found")
        self._write([r for r in records if r.key_id != key_id])

    def principal(self, key: str) -> Principal | None:
        """The principal of a presented key, or None when it is not a valid key."""
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "dj":
            return None
        record = self._load().get(parts[1])
        if record is None or not hmac.compare_digest(record.digest, _digest(key)):
            return None
        return Principal(record.role, record.collections, record.key_id)

    def _write(self, records: list[KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{KEYS_FILE}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(json.dumps([asdict(r) for r in records], ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


def identify(state, authorization: str, api_key: str) -> Principal:
    """Who presents these headers (``Authorization: Bearer <key>`` or ``X-API-Key``), for the
    service whose ``app.state`` is ``state``: a ``DangjianError`` for an invalid key, or for none
    where ``require_key`` is set."""
    key = authorization[7:].strip() if authorization.lower().startswith("bearer ") else api_key
    key = key.strip()
    if key:
        found = state.keys.principal(key)
        if found is None:
            raise DangjianError("API 密钥无效或已被撤销", code="unauthorized")
        return found
    if state.settings.require_key:
        raise DangjianError(
            "需要 API 密钥：请在请求头加 Authorization: Bearer 密钥（管理员用 dangjian keys create 创建）",
            code="unauthorized",
        )
    return ANONYMOUS


def check_writer(who: Principal) -> Principal:
    if who.key_id is None:
        raise DangjianError("上传和删除需要编辑或管理员的 API 密钥", code="unauthorized")
    if not who.can_write:
        raise DangjianError(f"这个密钥的角色是 {who.role}，不能上传或删除文档", code="forbidden")
    return who
