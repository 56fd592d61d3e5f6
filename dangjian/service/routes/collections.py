"""Collections: list, create (editors), delete with their documents (admins)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from ...config import Settings
from ...errors import DangjianError
from ...naming import check_collection_name
from .. import schemas
from ..deps import API, Cat, Snapshot, Who, Writer, ingest_out


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.get("/collections", response_model=list[schemas.Collection], summary="知识库列表")
    def collections(who: Who, cat: Cat, snap: Snapshot) -> list[schemas.Collection]:
        return [schemas.Collection(**asdict(c)) for c in cat.collections(snap.docs, who.collections)]

    @r.post("/collections", response_model=schemas.Collection, summary="新建知识库（编辑、管理员）")
    def create_collection(body: schemas.CollectionIn, who: Writer, cat: Cat, snap: Snapshot) -> schemas.Collection:
        name = check_collection_name(body.name)
        if not who.sees(name):
            raise DangjianError(f"这个密钥不能管理知识库：{name}", code="forbidden")
        return schemas.Collection(**asdict(cat.create_collection(snap.docs, name, body.description)))

    @r.delete("/collections/{name}", response_model=schemas.IngestResult, summary="删除知识库及其全部文档（管理员）")
    def delete_collection(name: str, who: Writer, cat: Cat, snap: Snapshot) -> schemas.IngestResult:
        if who.role != "admin":
            raise DangjianError("删除知识库需要管理员密钥", code="forbidden")
        cat.check_collections(snap.docs, [name], who.collections)
        return ingest_out(cat.delete_collection(snap.docs, name), who, cat.kb)

    return r
