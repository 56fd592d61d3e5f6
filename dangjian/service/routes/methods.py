"""Method cards: ``GET /methods`` (heaviest first, ``q`` to search) and ``GET /methods/{name}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...config import Settings
from ...errors import DangjianError
from ...methods import find_card, search_cards
from .. import schemas
from ..deps import API, Cat, Snapshot, Who, card_out, cards


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.get(
        "/methods", response_model=list[schemas.MethodCard], summary="工作法卡片列表：讲得多的在前，通用制度和平台在后"
    )
    def methods(
        who: Who,
        cat: Cat,
        snap: Snapshot,
        q: Annotated[str, Query(max_length=100, description="按名称、组成部分或原文查找")] = "",
    ) -> list[schemas.MethodCard]:
        return [card_out(card) for card in search_cards(cards(cat, snap, who), q)]

    @r.get("/methods/{name}", response_model=schemas.MethodCard, summary="一张工作法卡片（名称或简称）")
    def method(name: str, who: Who, cat: Cat, snap: Snapshot) -> schemas.MethodCard:
        card = find_card(cards(cat, snap, who), name)
        if card is None:
            raise DangjianError(f"知识库中没有名为“{name}”的工作法", code="method_not_found")
        return card_out(card)

    return r
