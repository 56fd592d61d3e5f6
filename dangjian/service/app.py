"""The FastAPI app: ``create_app(settings)``. The index and the model load once, at start-up; with no
index yet, one is built from the bundled corpus first. Routes (``routes/``, one module per
resource) are thin: validate, call the library, map to the public models of ``schemas.py``.
Every error, including a malformed request, answers with one JSON shape
``{"error": {"code", "message"}}`` and a Chinese message (``errors.py``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .. import __version__
from ..catalogue import Catalogue
from ..config import Settings
from ..conversation import ConversationStore
from ..errors import DangjianError
from ..jobs import JobQueue
from ..kb import KnowledgeBase
from ..llm import configured_model
from ..progress import LineProgress
from .errors import ERRORS, install_error_handlers
from .keys import KeyStore
from .middleware import RequestMiddleware
from .quotas import CiteQuotas
from .routes import api_routers

log = logging.getLogger("dangjian.service")


def page_html() -> str:
    from importlib import resources

    return resources.files("dangjian.service").joinpath("static/index.html").read_text(encoding="utf-8")


def static_dir() -> Path:
    """The page's own files (``static/``: index.html, css, js)."""
    return Path(__file__).resolve().parent / "static"


def api_docs_dir() -> Path:
    """Swagger UI and ReDoc files shipped by the ``fastapi-offline`` package (MIT), so that /docs
    and /redoc work on an intranet with no internet."""
    from importlib import resources

    return Path(str(resources.files("fastapi_offline").joinpath("static")))


@functools.cache
def redoc_script() -> str:
    """ReDoc's script with its one outside address (the "API docs by Redocly" logo) pointed at the
    service's own icon, so that /redoc asks nothing of the internet."""
    script = (api_docs_dir() / "redoc.standalone.js").read_text(encoding="utf-8")
    return script.replace("https://cdn.redoc.ly/redoc/logo-mini.svg", "/static/api-docs/favicon.png")


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
                    "索引还不存在，随附语料 corpus/ 也找不到；"
                    "请先运行 dangjian ingest 文件或文件夹 建立索引，或用 --corpus 指定语料文件夹"
                )
            log.info("no index at %s yet: building it from %s", knowledge.index_dir, folder)
            report = knowledge.ingest([folder], progress=LineProgress(log.info))
            log.info("index built: %d documents, %d passages", report.total_documents, report.total_passages)
        knowledge.searcher().warm_up()  # load the index and the model now, not on the first question
        app.state.kb = knowledge
        app.state.catalogue = Catalogue(knowledge)
        app.state.keys = KeyStore(knowledge.index_dir)
        if not app.state.keys.check():  # logged as an error; keyed requests answer 503 until fixed
            log.error("the API keys file is broken: requests with a key are refused (503) until it is fixed")
        app.state.quotas = CiteQuotas(
            per_minute=settings.cite_requests_per_minute, chars_per_doc_day=settings.cite_chars_per_doc_day
        )
        app.state.settings = settings
        app.state.llm = configured_model(settings)
        app.state.jobs = JobQueue(knowledge.index_dir)  # fails what a previous process left running
        app.state.conversations = ConversationStore(
            knowledge.index_dir, days=settings.conversation_days, max_turns=settings.conversation_max_turns
        )
        app.state.conversations.sweep()
        log.info("serving %s (%s)", knowledge.index_dir, knowledge.store.current_name())
        yield
        app.state.jobs.close()

    app = FastAPI(
        title="党建知识库 dangjian",
        version=__version__,
        description="检索党建文档，返回逐字引用的原文段落及出处（文档、章节路径、字符偏移）。",
        lifespan=lifespan,
        responses=ERRORS,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    for router in api_routers(settings):
        app.include_router(router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The web page: one static file, no build step; it talks to the API like any client."""
        return HTMLResponse(page_html())

    app.mount("/static/api-docs", StaticFiles(directory=api_docs_dir()), name="api-docs")  # before /static
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=app.title + " · API",
            swagger_js_url="/static/api-docs/swagger-ui-bundle.js",
            swagger_css_url="/static/api-docs/swagger-ui.css",
            swagger_favicon_url="/static/api-docs/favicon.png",
        )

    @app.get("/api-docs/redoc.js", include_in_schema=False)
    def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript")

    @app.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=app.title + " · API",
            redoc_js_url="/api-docs/redoc.js",
            redoc_favicon_url="/static/api-docs/favicon.png",
            with_google_fonts=False,
        )

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
        max_json_kb=settings.max_json_kb,
        requests=requests,
        latency=latency,
        log_questions=settings.log_questions,
    )
    return app
