"""The settings table of docs/settings.md and the Settings class agree."""

from __future__ import annotations

import re

from dangjian.config import Settings

from .conftest import REPO


def readme_settings() -> dict[str, str]:
    page = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(DANGJIAN_[A-Z_]+)` \| `([^`]*)` \|", page, re.M)
    return dict(rows)


def test_every_setting_is_documented_with_its_default():
    documented = readme_settings()
    fields = Settings.model_fields
    assert set(documented) == {f"DANGJIAN_{name.upper()}" for name in fields}
    defaults = Settings()
    for name in fields:
        value = getattr(defaults, name)
        shown = documented[f"DANGJIAN_{name.upper()}"]
        assert shown == (f"{value:g}" if isinstance(value, float) else str(value)), name


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("DANGJIAN_INDEX_DIR", str(tmp_path))
    monkeypatch.setenv("DANGJIAN_CHUNK_TARGET_CHARS", "200")
    settings = Settings()
    assert settings.index_dir == tmp_path and settings.chunk_target_chars == 200
