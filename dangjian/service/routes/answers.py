"""Questions: ``POST /ask`` (an answer quoting the passages, each sentence cited; with a
``conversation_id``, a follow-up understood after the conversation's turns) and ``GET /search``
(the passages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ...config import Settings
from ...conversation import stored_turn
from ...followup import ask_followup
from ...methods import named_in
from .. import schemas
from ..deps import API, KB, Cat, Snapshot, Who, card_out, cards, delivered, filters_for, passage_out


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.post("/ask", response_model=schemas.AskResponse, summary="回答问题（摘录原文，逐句标注出处）")
    def ask(
        body: schemas.AskRequest, request: Request, who: Who, kb: KB, cat: Cat, snap: Snapshot
    ) -> schemas.AskResponse:
        request.state.question = body.question  # logged only with the log_questions setting
        filters = filters_for(cat, snap, who, body.collections, body.filters)
        store = request.app.state.conversations
        # unknown, expired and another key's ids all start a new conversation, alike
        conv = store.get(body.conversation_id, who.key_id) or store.new(who.key_id)
        answer, found = ask_followup(
            kb,
            body.question,
            conv.turns,
            k=body.k or settings.top_k,
            filters=filters,
            model=request.app.state.llm,
            searcher=snap,
        )
        asked = body.question.strip()
        resolved = found.text if found.resolved and found.text != asked else None
        rank_of = {h.passage_id: h.rank for h in answer.hits}
        delivered(request, who, answer.hits, answer.citations)
        store.add_turn(
            conv,
            stored_turn(
                asked,
                resolved,
                answer.answer,
                answer.layout,
                [c.to_dict() for c in answer.citations],
                answer.abstained,
            ),
        )
        return schemas.AskResponse(
            question=asked,
            answer=answer.answer,
            layout=answer.layout,
            citations=[schemas.Citation(**c.to_dict(), rank=rank_of.get(c.passage_id, 0)) for c in answer.citations],
            passages=[passage_out(h) for h in answer.hits],
            abstained=answer.abstained,
            missing=answer.missing,
            method=card_out(named_in(cards(cat, snap, who), resolved or body.question)),
            generated=answer.generated,
            sentences=[schemas.CheckedSentence(**s.to_dict()) for s in answer.sentences],
            fallback=answer.fallback,
            took_ms=answer.took_ms,
            conversation_id=conv.id,
            resolved=resolved,
        )

    @r.get("/search", response_model=schemas.SearchResponse, summary="检索原文段落")
    def search(
        request: Request,
        who: Who,
        cat: Cat,
        snap: Snapshot,
        q: Annotated[str, Query(min_length=1, max_length=schemas.MAX_QUERY_CHARS, description="问题或关键词")],
        k: Annotated[int, Query(ge=1, le=schemas.MAX_K, description="返回多少段")] = settings.top_k,
        collection: Annotated[list[str] | None, Query(max_length=100, description="只在这些知识库中查找")] = None,
    ) -> schemas.SearchResponse:
        request.state.question = q  # logged only with the log_questions setting
        result = snap.search(q, k=k, filters=filters_for(cat, snap, who, collection))
        delivered(request, who, result.hits, result.related)
        return schemas.SearchResponse(
            query=result.query,
            hits=[passage_out(h) for h in result.hits],
            abstained=result.abstained,
            missing=result.missing,
            related=[passage_out(h) for h in result.related],
            method=card_out(named_in(cards(cat, snap, who), q)),
            took_ms=result.took_ms,
        )

    return r
