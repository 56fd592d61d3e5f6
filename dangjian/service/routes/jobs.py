"""Background write jobs: one job's progress and per-file results, and the recent ones.

Who sees a job: any API key, for jobs in the collections it may see (a job in another
collection answers exactly as one that does not exist); anonymous callers see none, even when
reads are open, because file names tell of documents before they are searchable.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...config import Settings
from ...errors import DangjianError
from .. import schemas
from ..deps import API, Jobs, Snapshot, Who, job_out
from ..keys import Principal


def _keyed(who: Principal) -> None:
    if who.key_id is None:
        raise DangjianError("查看导入任务需要 API 密钥（请求头 Authorization: Bearer 密钥）", code="unauthorized")


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=API)

    @r.get("/jobs", response_model=schemas.JobList, summary="最近的导入任务（需要 API 密钥）")
    def jobs(who: Who, queue: Jobs, snap: Snapshot, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> schemas.JobList:
        _keyed(who)
        seen = [j for j in queue.list(limit=10_000) if who.sees(j.collection)][:limit]
        return schemas.JobList(jobs=[job_out(j, who, snap) for j in seen])

    @r.get("/jobs/{job_id}", response_model=schemas.Job, summary="一个导入任务的进度和每个文件的结果")
    def job(job_id: str, who: Who, queue: Jobs, snap: Snapshot) -> schemas.Job:
        _keyed(who)
        found = queue.get(job_id)
        if found is None or not who.sees(found.collection):
            raise DangjianError(f"没有这个导入任务：{job_id}", code="job_not_found")
        return job_out(found, who, snap)

    return r
