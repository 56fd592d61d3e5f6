"""The FastAPI app: ``create_app(settings)``. The index and the model load once, at start-up; with no
index yet, one is built from the bundled corpus first. Routes are thin: validate, call the
``KnowledgeBase``, map to the public models of ``schemas.py``. Every error, including a malformed
request, answers with one JSON shape ``{"error": {"code", "message"}}`` and a Chinese message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..config import Settings
from ..draft import make_draft
from ..errors import DangjianError, IndexCorruptError, IndexNotFoundError
from ..index.search import Filters, Searcher, SearchResult, highlight_spans
from ..ingest import SUPPORTED_SUFFIXES
from ..ingest.pipeline import IngestReport
from ..kb import KnowledgeBase
from ..llm import configured_model
from ..methods import MethodCard, build_cards, find_card, named_in
from ..quiz import make_quiz
from ..schema import Hit
from . import schemas
from .keys import ANONYMOUS, KeyStore, Principal
from .middleware import RequestMiddleware, error_response

log = logging.getLogger("dangjian.service")

API = "/api/v1"
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorResponse} for code in (400, 401, 403, 404, 405, 409, 413, 422, 500, 503)
}


def page_html() -> str:
    from importlib import resources

    return resources.files("dangjian.service").joinpath("static/index.html").read_text(encoding="utf-8")


def bundled_corpus() -> Path:
    """The bundled ``corpus/`` folder: in the working directory (``scripts/start.sh`` runs from the
    repository), else beside the package of a source checkout."""
    for folder in (Path.cwd() / "corpus", Path(__file__).resolve().parents[2] / "corpus"):
        if folder.is_dir():
            return folder
    return Path.cwd() / "corpus"


def create_app(
    settings: Settings | None = None, *, kb: KnowledgeBase | None = None, corpus: Path | None = None
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        knowledge = kb or KnowledgeBase.from_settings(settings)
        if not knowledge.store.exists():
            folder = corpus or bundled_corpus()
            if not folder.is_dir():
                raise DangjianError(
                    f"索引 {knowledge.index_dir} 还不存在，随附语料 {folder} 也找不到；"
                    "请先运行 dangjian ingest 文件或文件夹 建立索引，或用 --corpus 指定语料文件夹"
                )
            log.info("no index at %s yet: building it from %s", knowledge.index_dir, folder)
            report = knowledge.ingest([folder], progress=_log_progress)
            log.info("index built: %d documents, %d passages", report.total_documents, report.total_passages)
        knowledge.searcher().warm_up()  # load the index and the model now, not on the first question
        app.state.kb = knowledge
        app.state.keys = KeyStore(knowledge.index_dir)
        app.state.settings = settings
        app.state.cards = {}
        app.state.llm = configured_model(settings)
        log.info("serving %s (%s)", knowledge.index_dir, knowledge.store.current_name())
        yield

    app = FastAPI(
        title="党建知识库 dangjian",
        version=__version__,
        description="检索党建文档，返回逐字引用的原文段落及出处（文档、章节路径、字符偏移）。",
        lifespan=lifespan,
        responses=ERRORS,
    )
    _install_error_handlers(app)
    app.include_router(_router(settings))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The web page: one static file, no build step; it talks to the API like any client."""
        return HTMLResponse(page_html())

    registry = CollectorRegistry()
    requests = Counter("dangjian_requests", "HTTP requests", ["route", "method", "status"], registry=registry)
    latency = Histogram(
        "dangjian_request_seconds",
        "HTTP request latency",
        ["route"],
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        registry=registry,
    )
    documents = Gauge("dangjian_index_documents", "Documents in the current index version", registry=registry)
    passages = Gauge("dangjian_index_passages", "Passages in the current index version", registry=registry)
    app.state.metrics = (registry, documents, passages)

    app.add_middleware(
        RequestMiddleware,
        max_upload_mb=settings.max_upload_mb,
        requests=requests,
        latency=latency,
        log_questions=settings.log_questions,
    )
    return app


def _log_progress(stage: str, done: int, total: int) -> None:
    if done == total or done % 500 == 0:
        log.info("%s %d/%d", stage, done, total)


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


Who = Annotated[Principal, Depends(principal)]
Writer = Annotated[Principal, Depends(writer)]


def _router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix=API)

    @router.post("/ask", response_model=schemas.AskResponse, summary="回答问题（摘录原文，逐句标注出处）")
    def ask(body: schemas.AskRequest, request: Request, who: Who) -> schemas.AskResponse:
        request.state.question = body.question  # logged only with the log_questions setting
        kb = _kb(request)
        filters = _filters(kb, who, body.collections, body.filters)
        answer = kb.ask(body.question, k=body.k, filters=filters, model=request.app.state.llm)
        passages = [_passage(h) for h in answer.hits]
        rank_of = {h.passage_id: h.rank for h in answer.hits}
        terms = _terms(kb, body.question)
        citations = [
            schemas.Citation(
                marker=c.marker,
                rank=rank_of.get(c.passage_id, 0),
                score=c.score,
                passage_id=c.passage_id,
                doc_id=c.doc_id,
                title=c.title,
                section_path=c.section_path,
                quote=c.quote,
                start=c.start,
                end=c.end,
                page=c.page,
                highlights=highlight_spans(c.quote, terms),
                citation=c.citation,
            )
            for c in answer.citations
        ]
        return schemas.AskResponse(
            question=answer.question,
            answer=answer.answer,
            citations=citations,
            passages=passages,
            abstained=answer.abstained,
            missing=answer.missing,
            method=_card_out(named_in(_cards(request, who), body.question)),
            generated=answer.generated,
            sentences=[schemas.CheckedSentence(**s.to_dict()) for s in answer.sentences],
            fallback=answer.fallback,
            took_ms=answer.took_ms,
        )

    @router.get("/search", response_model=schemas.SearchResponse, summary="检索原文段落")
    def search(
        request: Request,
        who: Who,
        q: Annotated[str, Query(min_length=1, max_length=schemas.MAX_QUERY_CHARS, description="问题或关键词")],
        k: Annotated[int, Query(ge=1, le=schemas.MAX_K, description="返回多少段")] = settings.top_k,
        collection: Annotated[list[str] | None, Query(max_length=100, description="只在这些知识库中查找")] = None,
    ) -> schemas.SearchResponse:
        request.state.question = q  # logged only with the log_questions setting
        kb = _kb(request)
        result: SearchResult = kb.search(q, k=k, filters=_filters(kb, who, collection, None))
        return schemas.SearchResponse(
            query=result.query,
            hits=[_passage(h) for h in result.hits],
            abstained=result.abstained,
            missing=result.missing,
            related=[_passage(h) for h in result.related],
            method=_card_out(named_in(_cards(request, who), q)),
            took_ms=result.took_ms,
        )

    @router.post("/draft", response_model=schemas.DraftResponse, summary="摘编素材稿：每段原文注明出处")
    def draft(body: schemas.DraftRequest, request: Request, who: Who) -> schemas.DraftResponse:
        kb = _kb(request)
        result = make_draft(
            kb,
            body.topic,
            template=body.template,
            headings=body.outline,
            filters=_filters(kb, who, body.collections, None),
            per_section=body.per_section,
            model=request.app.state.llm,
        )
        return schemas.DraftResponse.model_validate(result.to_dict())

    @router.post("/quiz", response_model=list[schemas.QuizQuestion], summary="出题：填空、选择、判断，附答案和出处")
    def quiz(body: schemas.QuizRequest, request: Request, who: Who) -> list[schemas.QuizQuestion]:
        if body.collections:
            _check_collections(_kb(request), who, body.collections)
        questions = make_quiz(_cards(request, who, body.collections), topic=body.topic, n=body.n, seed=body.seed)
        return [schemas.QuizQuestion.model_validate(q.to_dict()) for q in questions]

    @router.get("/methods", response_model=list[schemas.MethodCard], summary="工作法卡片列表")
    def methods(request: Request, who: Who) -> list[schemas.MethodCard]:
        return [_card_out(card) for card in _cards(request, who)]

    @router.get("/methods/{name}", response_model=schemas.MethodCard, summary="一张工作法卡片（名称或简称）")
    def method(name: str, request: Request, who: Who) -> schemas.MethodCard:
        card = find_card(_cards(request, who), name)
        if card is None:
            raise DangjianError(f"知识库中没有名为“{name}”的工作法", code="method_not_found")
        return _card_out(card)

    @router.get("/health", response_model=schemas.Health, summary="服务状态")
    def health(request: Request, who: Who) -> schemas.Health:
        kb = _kb(request)
        searcher = kb.searcher()
        collections: dict[str, int] = {}
        for info in searcher.docs.values():
            if who.sees(info["collection"]):
                collections[info["collection"]] = collections.get(info["collection"], 0) + 1
        visible = {d for d, info in searcher.docs.items() if who.sees(info["collection"])}
        return schemas.Health(
            status="ok",
            index_version=searcher.version.name,
            documents=len(visible),
            passages=sum(searcher.passage_counts[d] for d in visible),
            collections=collections,
            embedder=kb.embedder.identity(),
        )

    @router.get(
        "/metrics",
        response_class=PlainTextResponse,
        summary="Prometheus 指标：请求数、耗时分布、索引规模",
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    def metrics(request: Request, who: Who) -> PlainTextResponse:
        if who.collections is not None:  # index-wide counts would tell of the other collections
            raise DangjianError("限定了知识库的密钥不能查看全库指标", code="forbidden")
        registry, documents, passages = request.app.state.metrics
        searcher = _kb(request).searcher()
        documents.set(len(searcher.docs))
        passages.set(searcher.retrieval.n)
        return PlainTextResponse(generate_latest(registry).decode("utf-8"), media_type=CONTENT_TYPE_LATEST)

    @router.get("/collections", response_model=list[schemas.Collection], summary="知识库列表")
    def collections(request: Request, who: Who) -> list[schemas.Collection]:
        kb = _kb(request)
        return [c for c in _collections(kb) if who.sees(c.name)]

    @router.post("/collections", response_model=schemas.Collection, summary="新建知识库（编辑、管理员）")
    def create_collection(body: schemas.CollectionIn, request: Request, who: Writer) -> schemas.Collection:
        kb = _kb(request)
        if not who.sees(body.name):
            raise DangjianError(f"这个密钥不能管理知识库：{body.name}", code="forbidden")
        registry = _registry(kb)
        if body.name in registry or body.name in {c.name for c in _collections(kb)}:
            raise DangjianError(f"知识库已存在：{body.name}", code="collection_exists")
        registry[body.name] = body.description
        _save_registry(kb, registry)
        return schemas.Collection(name=body.name, description=body.description, documents=0)

    @router.delete(
        "/collections/{name}", response_model=schemas.IngestResult, summary="删除知识库及其全部文档（管理员）"
    )
    def delete_collection(name: str, request: Request, who: Writer) -> schemas.IngestResult:
        kb = _kb(request)
        if who.role != "admin":
            raise DangjianError("删除知识库需要管理员密钥", code="forbidden")
        _check_collections(kb, who, [name])
        doc_ids = [d for d, info in kb.searcher().docs.items() if info["collection"] == name]
        report = kb.remove(doc_ids) if doc_ids else IngestReport(index_dir=str(kb.index_dir))
        registry = _registry(kb)
        registry.pop(name, None)
        _save_registry(kb, registry)
        return _ingest_result(report)

    @router.get("/documents", response_model=schemas.DocumentList, summary="文档列表")
    def documents(
        request: Request,
        who: Who,
        collection: Annotated[str | None, Query(max_length=200)] = None,
        type: Annotated[str | None, Query(max_length=200, description="文档类型")] = None,
        year: Annotated[int | None, Query(ge=0, le=9999)] = None,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> schemas.DocumentList:
        kb = _kb(request)
        if collection is not None:
            _check_collections(kb, who, [collection])
        rows = [
            info
            for info in kb.searcher().docs.values()
            if who.sees(info["collection"])
            and (collection is None or info["collection"] == collection)
            and (type is None or info.get("type") == type)
            and (year is None or info.get("year") == year)
        ]
        rows.sort(key=lambda info: (info["collection"], info["title"], info["doc_id"]))
        return schemas.DocumentList(
            total=len(rows),
            offset=offset,
            limit=limit,
            documents=[_summary(info) for info in rows[offset : offset + limit]],
        )

    @router.get("/documents/{doc_id}", response_model=schemas.DocumentDetail, summary="一篇文档：元数据、章节和全文")
    def document(doc_id: str, request: Request, who: Who) -> schemas.DocumentDetail:
        kb = _kb(request)
        searcher = kb.searcher()  # one version for the record and the text
        info = _visible_document(searcher, who, doc_id)
        if not who.can_read_documents:
            raise DangjianError("这个密钥只能查看引文，不能下载全文", code="forbidden")
        doc, sections = searcher.version.document(info)
        return schemas.DocumentDetail(
            **_summary(info).model_dump(),
            metadata=doc.metadata,
            sections=[
                schemas.SectionOut(heading=s.heading, path=s.path, depth=s.depth, start=s.start, end=s.end)
                for s in sections
            ],
            text=doc.text,
        )

    @router.post("/documents", response_model=schemas.IngestResult, summary="上传文档（编辑、管理员）")
    def upload(
        request: Request,
        who: Writer,
        files: Annotated[list[UploadFile], File(description="一个或多个文件：txt、md、docx、pdf、html、jsonl 等")],
        collection: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[^/\\]+$")] = "default",
    ) -> schemas.IngestResult:
        kb = _kb(request)
        if not who.sees(collection):
            raise DangjianError(f"这个密钥不能写入知识库：{collection}", code="forbidden")
        folder = uploads_dir(kb) / collection
        folder.mkdir(parents=True, exist_ok=True)
        saved = [_save_upload(f, folder, settings.max_upload_mb) for f in files]
        report = kb.ingest(saved, collection=collection)
        if report.skipped and not (report.added or report.replaced or report.unchanged or report.duplicates):
            for path in saved:
                path.unlink(missing_ok=True)
            raise DangjianError(
                "没有导入任何文件：" + "；".join(s.reason for s in report.skipped), code="unsupported_file"
            )
        return _ingest_result(report)

    @router.delete("/documents/{doc_id}", response_model=schemas.IngestResult, summary="删除文档（编辑、管理员）")
    def delete(doc_id: str, request: Request, who: Writer) -> schemas.IngestResult:
        kb = _kb(request)
        info = _visible_document(kb.searcher(), who, doc_id)
        report = kb.remove([doc_id])
        source = Path(info["source"])
        if source.is_relative_to(uploads_dir(kb).resolve()):
            source.unlink(missing_ok=True)
        return _ingest_result(report)

    @router.post(
        "/documents/{doc_id}/reingest", response_model=schemas.IngestResult, summary="按原文件重新导入（编辑、管理员）"
    )
    def reingest(doc_id: str, request: Request, who: Writer) -> schemas.IngestResult:
        kb = _kb(request)
        info = _visible_document(kb.searcher(), who, doc_id)
        source = Path(info["source"])
        if not source.is_file():
            raise DangjianError(f"原文件已不在：{source}；请重新上传", code="source_missing")
        return _ingest_result(kb.ingest([source], collection=info["collection"]))

    return router


def _cards(request: Request, who: Principal, collections: list[str] | None = None) -> list[MethodCard]:
    """The method cards of the documents ``who`` may see (in ``collections`` when given), built
    once per index version and scope."""
    searcher = _kb(request).searcher()
    wanted = set(collections) if collections else None
    visible = tuple(who.collections) if who.collections is not None else None
    scope = (searcher.version.name, visible, tuple(sorted(wanted or ())))
    cache: dict = request.app.state.cards
    cards = cache.get(scope)
    if cards is None:
        if len(cache) > 64:
            cache.clear()
        cards = cache[scope] = build_cards(
            info
            for info in searcher.docs.values()
            if who.sees(info["collection"]) and (wanted is None or info["collection"] in wanted)
        )
    return cards


def _card_out(card: MethodCard | None) -> schemas.MethodCard | None:
    return schemas.MethodCard.model_validate(card.to_dict()) if card else None


def _kb(request: Request) -> KnowledgeBase:
    return request.app.state.kb


COLLECTIONS_FILE = "collections.json"


def _registry(kb: KnowledgeBase) -> dict[str, str]:
    """Collections created empty (name → description); a document's collection exists anyway."""
    path = kb.index_dir / COLLECTIONS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save_registry(kb: KnowledgeBase, registry: dict[str, str]) -> None:
    path = kb.index_dir / COLLECTIONS_FILE
    tmp = path.with_name(f".{COLLECTIONS_FILE}.tmp")
    tmp.write_text(json.dumps(registry, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


def _collections(kb: KnowledgeBase) -> list[schemas.Collection]:
    counts: dict[str, int] = {}
    for info in kb.searcher().docs.values():
        counts[info["collection"]] = counts.get(info["collection"], 0) + 1
    registry = _registry(kb)
    names = sorted(set(counts) | set(registry))
    return [schemas.Collection(name=n, description=registry.get(n, ""), documents=counts.get(n, 0)) for n in names]


def uploads_dir(kb: KnowledgeBase) -> Path:
    """Where uploaded files are kept, beside the index (back it up with the index)."""
    return kb.index_dir.with_name(kb.index_dir.name + "_uploads")


def _save_upload(upload: UploadFile, folder: Path, max_mb: float) -> Path:
    name = Path(upload.filename or "").name
    if not name or name.startswith("."):
        raise DangjianError("上传的文件没有文件名", code="bad_upload")
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        supported = "、".join(sorted(SUPPORTED_SUFFIXES))
        raise DangjianError(f"不支持的文件类型：{name}；支持 {supported}", code="unsupported_file")
    limit = int(max_mb * 1024 * 1024)
    target = folder / name
    tmp = folder / f".{name}.part"
    size = 0
    with open(tmp, "wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                tmp.unlink(missing_ok=True)
                raise DangjianError(f"文件 {name} 超过上传上限 {max_mb:g} MB", code="too_large")
            out.write(chunk)
    tmp.replace(target)
    return target


def _visible_document(searcher: Searcher, who: Principal, doc_id: str) -> dict[str, Any]:
    info = searcher.docs.get(doc_id)
    if info is None or not who.sees(info["collection"]):
        raise DangjianError(f"没有这篇文档：{doc_id}", code="document_not_found")
    return info


def _ingest_result(report: IngestReport) -> schemas.IngestResult:
    return schemas.IngestResult(**report.to_dict())


def _terms(kb: KnowledgeBase, question: str) -> list[str]:
    return [t for t in kb.searcher().tokenizer.tokenize(question) if len(t) > 1 or not t.isascii()]


def _check_collections(kb: KnowledgeBase, who: Principal, names: list[str]) -> None:
    known = {c.name for c in _collections(kb) if who.sees(c.name)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DangjianError(
            f"没有这个知识库：{'、'.join(unknown)}；现有：{'、'.join(sorted(known)) or '（无）'}",
            code="unknown_collection",
        )


def _filters(
    kb: KnowledgeBase, who: Principal, collections: list[str] | None, extra: schemas.SearchFilters | None
) -> Filters | None:
    if collections:
        _check_collections(kb, who, collections)
    filters = Filters(
        collections=collections or who.collections,
        doc_ids=extra.doc_ids if extra else None,
        types=extra.types if extra else None,
        years=extra.years if extra else None,
    )
    return None if filters.empty() else filters


def _passage(hit: Hit) -> schemas.Passage:
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


def _summary(info: dict[str, Any]) -> schemas.DocumentSummary:
    return schemas.DocumentSummary(
        doc_id=info["doc_id"],
        title=info["title"],
        collection=info["collection"],
        type=info.get("type"),
        year=info.get("year"),
        file_type=info["file_type"],
        source=info["source"],
    )


# --- errors ---------------------------------------------------------------------------------------

_STATUS = {
    "document_not_found": 404,
    "method_not_found": 404,
    "no_quiz": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "too_large": 413,
    "collection_exists": 409,
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DangjianError)
    async def dangjian_error(request: Request, exc: DangjianError) -> JSONResponse:
        if isinstance(exc, IndexNotFoundError | IndexCorruptError):
            return error_response(503, exc.code, exc.message)
        return error_response(_STATUS.get(exc.code, 400), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "not_found", f"没有这个地址：{request.url.path}")
        if exc.status_code == 405:
            return error_response(405, "method_not_allowed", f"{request.url.path} 不支持 {request.method} 请求")
        return error_response(exc.status_code, "http_error", f"请求无法处理（HTTP {exc.status_code}）")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "服务器内部错误，已记录日志；请稍后重试或联系管理员")


_FIELD_NAMES = {"question": "问题", "q": "问题", "k": "返回段数 k", "collections": "知识库", "collection": "知识库"}


def validation_message(errors: list[dict[str, Any]]) -> str:
    """The first validation error in Chinese: which field, what is wrong, what is allowed."""
    if not errors:
        return "请求格式不正确"
    err = errors[0]
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
    name = ".".join(loc)
    field = _FIELD_NAMES.get(loc[-1], name) if loc else "请求体"
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "json_invalid":
        return "请求体不是合法的 JSON"
    if kind == "missing":
        return f"缺少必填项：{field}"
    if kind == "extra_forbidden":
        return f"不认识的字段：{name}"
    if kind in ("string_too_short", "too_short") and ctx.get("min_length", 1) == 1:
        return f"{field}不能为空"
    if kind == "string_too_long":
        return f"{field}太长，最多 {ctx.get('max_length')} 字"
    if kind == "too_long":
        return f"{field}太多，最多 {ctx.get('max_length')} 项"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        word = {"greater_than_equal": "不能小于", "less_than_equal": "不能大于", "greater_than": "必须大于"}.get(
            kind, "必须小于"
        )
        return f"{field}{word} {bound}"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "model_attributes_type":
        return f"{field}的类型不对（{err.get('input')!r}）"
    return f"{field}不正确"
