"""Service status: ``GET /health``, ``GET /me`` (who the key is) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...config import Settings
from ...errors import DangjianError
from .. import schemas
from ..deps import API, KB, Snapshot, Who


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.get("/health", response_model=schemas.Health, summary="服务状态")
    def health(who: Who, kb: KB, snap: Snapshot) -> schemas.Health:
        collections: dict[str, int] = {}
        for info in snap.docs.values():
            if who.sees(info["collection"]):
                collections[info["collection"]] = collections.get(info["collection"], 0) + 1
        visible = {d for d, info in snap.docs.items() if who.sees(info["collection"])}
        return schemas.Health(
            status="ok",
            index_version=snap.version.name,
            documents=len(visible),
            passages=sum(snap.passage_counts[d] for d in visible),
            collections=collections,
            embedder=kb.embedder.identity(),
        )

    @r.get("/me", response_model=schemas.Me, summary="当前密钥的身份：角色和可见的知识库（网页用来核对密钥）")
    def me(who: Who) -> schemas.Me:
        return schemas.Me(
            signed_in=who.key_id is not None,
            key_id=who.key_id,
            role=who.role,
            collections=who.collections,
            can_write=who.can_write,
        )

    @r.get(
        "/metrics",
        response_class=PlainTextResponse,
        summary="Prometheus 指标：请求数、耗时分布、索引规模",
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    def metrics(request: Request, who: Who, snap: Snapshot) -> PlainTextResponse:
        if who.collections is not None:  # index-wide counts would tell of the other collections
            raise DangjianError("限定了知识库的密钥不能查看全库指标", code="forbidden")
        registry, documents, passages = request.app.state.metrics
        documents.set(len(snap.docs))
        passages.set(snap.retrieval.n)
        return PlainTextResponse(generate_latest(registry).decode("utf-8"), media_type=CONTENT_TYPE_LATEST)

    return r
