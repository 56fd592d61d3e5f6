"""Drafting and training: ``POST /draft`` (material per section, each paragraph cited, spare
paragraphs to swap in), ``POST /draft/export`` (a draft as the page left it, as .docx or .md),
``POST /quiz`` (questions with answers and sources), ``POST /quiz/sheet`` (the same as a printable
.docx) and ``POST /quiz/check`` (answers compared normalised)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from ...config import Settings
from ...draft import Draft, make_draft
from ...draft_export import docx_bytes, to_markdown
from ...quiz import QuizQuestion, answers_match, make_quiz, quiz_documents
from ...quiz_sheet import sheet_bytes
from .. import schemas
from ..deps import API, Cat, Snapshot, Who, cards, delivered, filters_for

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def attachment(name: str) -> str:
    """A download's Content-Disposition with a Chinese file name (RFC 5987)."""
    return f"attachment; filename=download{name[name.rfind('.') :]}; filename*=UTF-8''{quote(name)}"


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.post("/draft", response_model=schemas.DraftResponse, summary="摘编素材稿：每段原文注明出处")
    def draft(
        body: schemas.DraftRequest, request: Request, who: Who, cat: Cat, snap: Snapshot
    ) -> schemas.DraftResponse:
        result = make_draft(
            snap,
            body.topic,
            template=body.template,
            headings=body.outline,
            filters=filters_for(cat, snap, who, body.collections),
            per_section=body.per_section,
            model=request.app.state.llm,
            year=body.year,
        )
        response = schemas.DraftResponse.model_validate(result.to_dict())
        delivered(request, who, response.references)
        return response

    @r.post(
        "/draft/export",
        response_class=Response,
        responses={200: {"content": {DOCX: {}, "text/markdown": {}}, "description": "素材稿文件"}},
        summary="导出素材稿（.docx 公文格式或 .md）：页面上换过、删过段落的稿子",
    )
    def draft_export(body: schemas.DraftExport, who: Who) -> Response:  # noqa: ARG001 - a key is needed
        result = Draft.from_dict(body.draft.model_dump())
        if body.format == "md":
            return Response(
                to_markdown(result).encode("utf-8"),
                media_type="text/markdown; charset=utf-8",
                headers={"Content-Disposition": attachment("素材稿.md")},
            )
        return Response(docx_bytes(result), media_type=DOCX, headers={"Content-Disposition": attachment("素材稿.docx")})

    def questions(body: schemas.QuizRequest, who, cat, snap) -> list[QuizQuestion]:
        if body.collections:
            cat.check_collections(snap.docs, body.collections, who.collections)
        found = cards(cat, snap, who, body.collections)
        documents = quiz_documents(
            snap.docs, snap.document, found, body.topic, visible=who.collections, collections=body.collections
        )
        return make_quiz(found, topic=body.topic, n=body.n, seed=body.seed, documents=documents)

    @r.post("/quiz", response_model=list[schemas.QuizQuestion], summary="出题：填空、选择、判断，附答案和出处")
    def quiz(
        body: schemas.QuizRequest, request: Request, who: Who, cat: Cat, snap: Snapshot
    ) -> list[schemas.QuizQuestion]:
        out = [schemas.QuizQuestion.model_validate(q.to_dict()) for q in questions(body, who, cat, snap)]
        delivered(request, who, [q.source for q in out])
        return out

    @r.post(
        "/quiz/sheet",
        response_class=Response,
        responses={200: {"content": {DOCX: {}}, "description": "可打印的试卷：先试题，后答案和出处"}},
        summary="试卷（.docx）：与 /quiz 同样的题目",
    )
    def quiz_sheet(body: schemas.QuizRequest, request: Request, who: Who, cat: Cat, snap: Snapshot) -> Response:
        found = questions(body, who, cat, snap)
        delivered(request, who, [schemas.QuizQuestion.model_validate(q.to_dict()).source for q in found])
        data = sheet_bytes(found, body.topic)
        return Response(data, media_type=DOCX, headers={"Content-Disposition": attachment("试卷.docx")})

    @r.post(
        "/quiz/check",
        response_model=list[schemas.QuizVerdict],
        summary="判分：答案按规范化后比较（标点、全半角、繁简、引号）",
    )
    def quiz_check(body: list[schemas.QuizAnswer], who: Who) -> list[schemas.QuizVerdict]:  # noqa: ARG001 - a key is needed
        return [schemas.QuizVerdict(correct=answers_match(a.given, a.answer)) for a in body]

    return r
