"""Settings for the CLI and the service (environment variables with the ``DANGJIAN_`` prefix).

Library functions never read these; they take keyword arguments. Every field is listed in the
README's settings table (a test keeps the two in agreement).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .ingest.chunking import DEFAULT_MAX_CHARS, DEFAULT_TARGET_CHARS
from .ingest.common import DEFAULT_MAX_FILE_MB


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGJIAN_", extra="ignore")

    index_dir: Path = Field(Path("dangjian_data"), description="索引目录")
    chunk_target_chars: int = Field(DEFAULT_TARGET_CHARS, ge=20, le=5000, description="段落目标长度（字）")
    chunk_max_chars: int = Field(DEFAULT_MAX_CHARS, ge=20, le=10000, description="段落最大长度（字）")
    max_file_mb: float = Field(DEFAULT_MAX_FILE_MB, gt=0, description="单个文件大小上限（MB）")

    @model_validator(mode="after")
    def _chunk_sizes_agree(self) -> Settings:
        if self.chunk_target_chars > self.chunk_max_chars:
            raise ValueError(
                f"段落目标长度 {self.chunk_target_chars} 不能大于最大长度 {self.chunk_max_chars}"
                "（DANGJIAN_CHUNK_TARGET_CHARS / DANGJIAN_CHUNK_MAX_CHARS）"
            )
        return self
