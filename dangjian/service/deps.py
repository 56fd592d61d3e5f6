"""What every route needs from a request: who asks (``Who``/``Writer``), the one snapshot of the
index it reads (``Snapshot``: the current version, looked up once per request), the knowledge
base and its catalogue; and the mapping of library results to the public models."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from ..catalogue import Catalogue
from ..errors import DangjianError
from ..index.search import Searcher
from ..jobs import Job, JobQueue
from ..kb import KnowledgeBase
from ..methods import MethodCard
from ..schema import Filters, Hit
from . import schemas
from .keys import ANONYMOUS, Principal


def principal(request: Request) -> Principal:
    """Who is asking, from ``Authorization: Bearer <key>`` or ``X-API-Key``."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    if key:
        found = request.app.state.keys.principal(key.strip())
        if found is None:
            raise DangjianError("API 密钥无效或已被撤销", code="unauthorized")
        return found
    if request.app.state.settings.require_key:
        raise DangjianError(
            "需要 API 密钥：请在请求头加 Authorization: Bearer 密钥（管理员用 dangjian keys create 创建）",
            code="unauthorized",
        )
    return ANONYMOUS


def writer(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.key_id is None:
        raise DangjianError("上传和删除需要编辑或管理员的 API 密钥", code="unauthorized")
    if not who.can_write:
        raise DangjianError(f"这个密钥的角色是 {who.role}，不能上传或删除文档", code="forbidden")
    return who


def snapshot(request: Request) -> Searcher:
    """The index version this request reads from start to end."""
    return request.app.state.kb.searcher()


def knowledge_base(request: Request) -> KnowledgeBase:
    return request.app.state.kb


def catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue


def job_queue(request: Request) -> JobQueue:
    return request.app.state.jobs


API = "/api/v1"
Who = Annotated[Principal, Depends(principal)]
Writer = Annotated[Principal, Depends(writer)]
Snapshot = Annotated[Searcher, Depends(snapshot)]
KB = Annotated[KnowledgeBase, Depends(knowledge_base)]
Cat = Annotated[Catalogue, Depends(catalogue)]
Jobs = Annotated[JobQueue, Depends(job_queue)]


def filters_for(
    cat: Catalogue,
    snap: Searcher,
    who: Principal,
    collections: list[str] | None,
    extra: schemas.SearchFilters | None = None,
) -> Filters | None:
    """The caller's filters, limited to the collections its key may see."""
    if collections:
        cat.check_collections(snap.docs, collections, who.collections)
    filters = Filters(
        collections=collections or who.collections,
        doc_ids=extra.doc_ids if extra else None,
        types=extra.types if extra else None,
        years=extra.years if extra else None,
        roles=extra.roles if extra else None,
    )
    return None if filters.empty() else filters


def cards(cat: Catalogue, snap: Searcher, who: Principal, collections: list[str] | None = None) -> list[MethodCard]:
    return cat.cards(snap.docs, snap.version.name, who.collections, collections)


def card_out(card: MethodCard | None) -> schemas.MethodCard | None:
    return schemas.MethodCard.model_validate(card.to_dict()) if card else None


def passage_out(hit: Hit) -> schemas.Passage:
    return schemas.Passage(
        rank=hit.rank,
        score=hit.score,
        passage_id=hit.passage_id,
        doc_id=hit.doc_id,
        title=hit.title,
        collection=hit.collection,
        section_path=hit.section_path,
        quote=hit.text,
        start=hit.start,
        end=hit.end,
        page=hit.page,
        page_end=hit.page_end,
        paragraph=hit.paragraph,
        highlights=hit.highlights,
        citation=hit.citation,
    )


def summary_out(info: dict[str, Any]) -> schemas.DocumentSummary:
    return schemas.DocumentSummary(
        doc_id=info["doc_id"],
        title=info["title"],
        collection=info["collection"],
        type=info.get("type"),
        year=info.get("year"),
        file_type=info["file_type"],
        source=info["source"],
    )


def ingest_out(report) -> schemas.IngestResult:
    return schemas.IngestResult(**report.to_dict())


def job_out(job: Job) -> schemas.Job:
    data = job.to_dict()
    data.pop("staging", None)
    return schemas.Job.model_validate(data)
