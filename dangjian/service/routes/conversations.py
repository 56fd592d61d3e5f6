"""Conversations: the turns of one (``GET``/``DELETE /conversations/{id}``) and a key's recent
ones (``GET /conversations``).

A conversation is its creating key's (by key id); an anonymous one is reached by its id alone and
never listed. Unknown, expired and another key's conversations answer the same 404.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...config import Settings
from ...conversation import Conversation, ConversationStore
from ...errors import DangjianError
from .. import schemas
from ..deps import API, Who, delivered
from ..keys import Principal


def _store(request: Request) -> ConversationStore:
    return request.app.state.conversations


def _found(request: Request, cid: str, who: Principal) -> Conversation:
    conv = _store(request).get(cid, who.key_id)
    if conv is None:
        raise DangjianError(
            "没有这个对话（编号不对、已过期或不属于当前密钥）；不带 conversation_id 提问即开始新对话",
            code="conversation_not_found",
        )
    return conv


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.get("/conversations", response_model=schemas.ConversationList, summary="当前密钥最近的对话")
    def recent(request: Request, who: Who, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> schemas.ConversationList:
        return schemas.ConversationList(
            conversations=[
                schemas.ConversationSummary(
                    id=c.id,
                    question=c.turns[0]["question"] if c.turns else "",
                    updated=c.public()["updated"],
                    turns=len(c.turns),
                )
                for c in _store(request).recent(who.key_id, limit)
            ]
        )

    @r.get("/conversations/{cid}", response_model=schemas.Conversation, summary="一个对话的各轮问答及出处")
    def conversation(cid: str, request: Request, who: Who) -> schemas.Conversation:
        conv = _found(request, cid, who)
        quoted = [SimpleNamespace(**c) for t in conv.turns for c in t["citations"]]
        delivered(request, who, quoted)  # a cite-role key's quota counts quotes read again
        return schemas.Conversation.model_validate(conv.public())

    @r.delete(
        "/conversations/{cid}", status_code=204, response_class=Response, summary="删除一个对话", response_model=None
    )
    def delete(cid: str, request: Request, who: Who) -> Response:
        _found(request, cid, who)
        _store(request).delete(cid, who.key_id)
        return Response(status_code=204)

    return r
