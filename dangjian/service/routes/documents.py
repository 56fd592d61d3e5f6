"""Documents: list, one with its sections and text, upload (editors), delete, re-ingest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from ...config import Settings
from ...errors import DangjianError
from ...jobs import new_job_id
from ...naming import check_collection_name
from .. import schemas
from ..deps import API, KB, Cat, Jobs, Snapshot, Who, Writer, ingest_out, job_out, summary_out


def public_metadata(metadata: dict) -> dict:
    """A document's metadata as anonymous readers see it: without the uploaded file's name."""
    return {k: v for k, v in metadata.items() if k != "original_name"}


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.get("/documents", response_model=schemas.DocumentList, summary="文档列表")
    def documents(
        who: Who,
        cat: Cat,
        snap: Snapshot,
        collection: Annotated[str | None, Query(max_length=200)] = None,
        type: Annotated[str | None, Query(max_length=200, description="文档类型")] = None,
        year: Annotated[int | None, Query(ge=0, le=9999)] = None,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> schemas.DocumentList:
        if collection is not None:
            cat.check_collections(snap.docs, [collection], who.collections)
        rows = cat.documents(snap.docs, who.collections, collection=collection, type=type, year=year)
        return schemas.DocumentList(
            total=len(rows),
            offset=offset,
            limit=limit,
            documents=[
                summary_out(info, who, snap.passage_counts[info["doc_id"]]) for info in rows[offset : offset + limit]
            ],
        )

    @r.get("/documents/{doc_id}", response_model=schemas.DocumentDetail, summary="一篇文档：元数据、章节和全文")
    def document(doc_id: str, who: Who, cat: Cat, snap: Snapshot) -> schemas.DocumentDetail:
        info = cat.document(snap.docs, doc_id, who.collections)
        if not who.can_read_documents:
            raise DangjianError("这个密钥只能查看引文，不能下载全文", code="forbidden")
        doc, sections = snap.version.document(info)
        return schemas.DocumentDetail(
            **summary_out(info, who, snap.passage_counts[doc_id]).model_dump(),
            metadata=doc.metadata if who.key_id is not None else public_metadata(doc.metadata),
            sections=[
                schemas.SectionOut(heading=s.heading, path=s.path, depth=s.depth, start=s.start, end=s.end)
                for s in sections
            ],
            text=doc.text,
        )

    @r.post(
        "/documents",
        status_code=202,
        response_model=schemas.JobAccepted,
        summary="上传文档（编辑、管理员）：后台导入，返回任务，用 GET /jobs/{id} 查看进度",
    )
    def upload(
        who: Writer,
        cat: Cat,
        jobs: Jobs,
        files: Annotated[
            list[UploadFile],
            File(
                description="一个或多个文件：txt、md、docx、pdf（含扫描件）、图片、ofd、zip、xlsx、pptx、html、jsonl 等"
            ),
        ],
        collection: Annotated[str, Form(min_length=1, max_length=200)] = "default",
    ) -> schemas.JobAccepted:
        """The files are saved at once (a file of an unsupported type or too large is reported in
        the job's table; when every file is refused, the request is refused); parsing, embedding
        and indexing run as a queued job."""
        collection = check_collection_name(collection)
        if not who.sees(collection):
            raise DangjianError(f"这个密钥不能写入知识库：{collection}", code="forbidden")
        job_id = new_job_id()
        staged, refused = cat.stage_upload(
            [(f.filename or "", f.file) for f in files], job_id, max_mb=settings.max_upload_mb
        )

        def run(job, progress):
            return cat.ingest_staged(staged, collection, progress)

        job = jobs.submit("upload", collection, run, files=refused, staging=cat.staging_dir(job_id), job_id=job_id)
        return schemas.JobAccepted(job=job_out(job, who))

    @r.delete("/documents/{doc_id}", response_model=schemas.IngestResult, summary="删除文档（编辑、管理员）")
    def delete(doc_id: str, who: Writer, cat: Cat, snap: Snapshot) -> schemas.IngestResult:
        cat.document(snap.docs, doc_id, who.collections)
        return ingest_out(cat.delete_documents(snap.docs, [doc_id]), who, cat.kb)

    @r.post(
        "/documents/{doc_id}/reingest",
        status_code=202,
        response_model=schemas.JobAccepted,
        summary="按原文件重新导入（编辑、管理员）：后台任务",
    )
    def reingest(doc_id: str, who: Writer, cat: Cat, kb: KB, jobs: Jobs, snap: Snapshot) -> schemas.JobAccepted:
        source, collection = cat.reingest_source(snap.docs, doc_id, who.collections)

        def run(job, progress):
            return kb.ingest([source], collection=collection, progress=progress)

        return schemas.JobAccepted(job=job_out(jobs.submit("reingest", collection, run), who))

    return r
