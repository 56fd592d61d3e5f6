"""What every route needs from a request: who asks (``Who``/``Writer``), the one snapshot of the
index it reads (``Snapshot``: the current version, looked up once per request), the knowledge
base and its catalogue; and the mapping of library results to the public models."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import Depends, Request

from ..catalogue import Catalogue
from ..index.search import Searcher
from ..jobs import Job, JobQueue
from ..kb import KnowledgeBase
from ..methods import MethodCard
from ..schema import Filters, Hit
from . import schemas
from .errors import public_text
from .keys import Principal, check_writer, identify


def principal(request: Request) -> Principal:
    """Who is asking, from ``Authorization: Bearer <key>`` or ``X-API-Key``; a cite-role key is
    counted against its per-minute limit here, once per request."""
    who = identify(request.app.state, request.headers.get("authorization", ""), request.headers.get("x-api-key", ""))
    if who.role == "cite":
        request.app.state.quotas.count_request(who)
    return who


def writer(who: Annotated[Principal, Depends(principal)]) -> Principal:
    return check_writer(who)


def delivered(request: Request, who: Principal, *groups: Iterable[Any]) -> None:
    """Count the text a response gives a cite-role key (each item has ``doc_id``, ``start`` and
    ``end``: hits, citations, references); ``RateLimited`` over its daily cap."""
    if who.role == "cite":
        request.app.state.quotas.deliver(who, [(x.doc_id, x.start, x.end) for group in groups for x in group])


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


def public_source(source: str) -> str:
    """A document's source as responses show it: the file's name, never a server folder
    (``报告.zip!/2023/总结.docx`` and ``导出.jsonl#L12`` keep their inner part)."""
    outer, bang, inner = source.partition("!/")
    path, sep, line = outer.partition("#L")
    return PurePath(path).name + sep + line + bang + inner


def summary_out(info: dict[str, Any], who: Principal, passages: int = 0) -> schemas.DocumentSummary:
    return schemas.DocumentSummary(
        doc_id=info["doc_id"],
        title=info["title"],
        collection=info["collection"],
        type=info.get("type"),
        year=info.get("year"),
        file_type=info["file_type"],
        source=public_source(info["source"]) if who.key_id is not None else None,
        passages=passages,
        added_on=info.get("added_on"),
    )


def public_report(data: dict[str, Any], who: Principal, snap: Searcher | None) -> dict[str, Any]:
    """An ingest report as a caller may see it: file names instead of server paths, and for a
    key limited to some collections, totals over those collections only."""
    data = dict(data)
    data["index_dir"] = PurePath(data.get("index_dir") or "").name
    data["duplicates"] = [
        {**d, "source": public_source(d["source"]), "duplicate_of": public_source(d["duplicate_of"])}
        for d in data.get("duplicates", [])
    ]
    data["skipped"] = [
        {**d, "path": public_source(d["path"]), "reason": public_text(d["reason"])} for d in data.get("skipped", [])
    ]
    if "results" in data:
        data["results"] = [
            {**r, "name": public_source(r["name"]), "reason": public_text(r["reason"])} for r in data["results"]
        ]
    if who.collections is not None and snap is not None:
        visible = [d for d, info in snap.docs.items() if who.sees(info["collection"])]
        data["total_documents"] = len(visible)
        data["total_passages"] = sum(snap.passage_counts[d] for d in visible)
    return data


def ingest_out(report, who: Principal, kb: KnowledgeBase) -> schemas.IngestResult:
    return schemas.IngestResult(**public_report(report.to_dict(), who, kb.searcher()))


def job_out(job: Job, who: Principal, snap: Searcher | None = None) -> schemas.Job:
    data = job.to_dict()
    data.pop("staging", None)
    data["files"] = [{**row, "reason": public_text(row.get("reason") or "")} for row in data["files"]]
    data["error"] = public_text(data["error"]) if data.get("error") else None
    if data.get("report"):
        data["report"] = public_report(data["report"], who, snap)
    return schemas.Job.model_validate(data)
