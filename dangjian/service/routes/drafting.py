"""Drafting and training: ``POST /draft`` (material per section, each paragraph cited) and
``POST /quiz`` (questions with answers and sources)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...config import Settings
from ...draft import make_draft
from ...quiz import make_quiz
from .. import schemas
from ..deps import API, Cat, Snapshot, Who, cards, delivered, filters_for


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
        )
        response = schemas.DraftResponse.model_validate(result.to_dict())
        delivered(request, who, response.references)
        return response

    @r.post("/quiz", response_model=list[schemas.QuizQuestion], summary="出题：填空、选择、判断，附答案和出处")
    def quiz(
        body: schemas.QuizRequest, request: Request, who: Who, cat: Cat, snap: Snapshot
    ) -> list[schemas.QuizQuestion]:
        if body.collections:
            cat.check_collections(snap.docs, body.collections, who.collections)
        questions = make_quiz(cards(cat, snap, who, body.collections), topic=body.topic, n=body.n, seed=body.seed)
        out = [schemas.QuizQuestion.model_validate(q.to_dict()) for q in questions]
        delivered(request, who, [q.source for q in out])
        return out

    return r
