"""Background write jobs: uploads and re-ingests queue behind each other and run one at a time
in a worker thread, so a request answers at once and a client may go away.

A job's record is a small JSON file in ``<index home>/jobs/`` (written when it changes stage or
state, and at most once a second while it runs), so its state survives the process. A job still
queued or running when the process ends is marked failed at the next start, and its staged
files are removed: the index is as it was (a version switches in atomically, and a job's
uploads replace their stored originals only after that).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import DangjianError
from .ingest.pipeline import FileResult, IngestReport
from .progress import Tracker

log = logging.getLogger("dangjian.jobs")

JOBS_DIR = "jobs"
KEEP_JOBS = 200  # finished job records kept; older ones are deleted
SAVE_EVERY_S = 1.0
RESTARTED = "服务在任务完成前重启，任务未完成；索引保持原样，请重新提交"

# run(job, progress) -> the report of the write; it may raise DangjianError (shown to users)
Runner = Callable[["Job", Callable[[str, int, int], None]], IngestReport]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    id: str
    kind: str  # "upload" | "reingest"
    collection: str
    state: str = "queued"  # queued | running | done | failed
    stage: str | None = None  # parse | embed | write
    done: int = 0
    total: int = 0
    eta_s: float | None = None
    files: list[dict[str, Any]] = field(default_factory=list)  # name, status, reason, doc_id
    error: str | None = None
    report: dict[str, Any] | None = None
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    staging: str | None = None  # folder of this job's staged uploads, removed when it ends

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class JobQueue:
    """The write jobs of one index home, run in order by one worker thread."""

    def __init__(self, home: str | Path):
        self.dir = Path(home) / JOBS_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, Job] = {}
        self._runners: dict[str, Runner] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._recover()

    # --- records ----------------------------------------------------------------------------

    def _recover(self) -> None:
        """Load the records; a job a previous process left queued or running is failed now."""
        for path in sorted(self.dir.glob("*.json")):
            try:
                job = Job(**json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                log.warning("unreadable job record %s: removed", path)
                path.unlink(missing_ok=True)
                continue
            if job.state in ("queued", "running"):
                log.warning("job %s was %s when the service stopped: marked failed", job.id, job.state)
                job.state, job.error, job.finished_at, job.eta_s = "failed", RESTARTED, _now(), None
                self._discard_staging(job)
                self._save(job)
            self._jobs[job.id] = job
        self._prune()

    def _save(self, job: Job) -> None:
        tmp = self.dir / f".{job.id}.json.tmp"
        tmp.write_text(json.dumps(job.to_dict(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.dir / f"{job.id}.json")

    def _prune(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.state in ("done", "failed")), key=lambda j: j.created_at)
        for job in finished[: max(0, len(finished) - KEEP_JOBS)]:
            (self.dir / f"{job.id}.json").unlink(missing_ok=True)
            self._jobs.pop(job.id, None)

    @staticmethod
    def _discard_staging(job: Job) -> None:
        if job.staging:
            shutil.rmtree(job.staging, ignore_errors=True)

    # --- the queue --------------------------------------------------------------------------

    def submit(
        self,
        kind: str,
        collection: str,
        run: Runner,
        *,
        files: list[dict] | None = None,
        staging: Path | None = None,
        job_id: str | None = None,
    ) -> Job:
        """Queue a job; ``files``: rows known before it runs (files refused at upload). Returns
        the job as queued (a copy: the worker may have started it by the time it is shown)."""
        job = Job(
            id=job_id or new_job_id(),
            kind=kind,
            collection=collection,
            files=list(files or []),
            staging=str(staging) if staging else None,
        )
        with self._lock:
            self._jobs[job.id] = job
            self._runners[job.id] = run
            self._save(job)
            self._prune()
            queued = replace(job, files=[dict(row) for row in job.files])
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="dangjian-jobs", daemon=True)
                self._worker.start()
        self._queue.put(job.id)
        log.info("job %s queued: %s into %s", job.id, kind, collection)
        return queued

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def list(self, limit: int = 50) -> list[Job]:
        """The most recent jobs first."""
        return sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)[:limit]

    def close(self) -> None:
        """Let the worker stop after the job it is running (queued ones fail at the next start)."""
        self._queue.put(None)

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            job, run = self._jobs.get(job_id), self._runners.pop(job_id, None)
            if job is not None and run is not None:
                self._run(job, run)

    def _run(self, job: Job, run: Runner) -> None:
        tracker = Tracker()
        saved = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            new = tracker.update(stage, done, total)
            job.stage, job.done, job.total, job.eta_s = stage, done, total, tracker.eta_s
            if new or time.monotonic() - saved[0] >= SAVE_EVERY_S:
                saved[0] = time.monotonic()
                self._save(job)

        job.state, job.started_at = "running", _now()
        self._save(job)
        log.info("job %s running", job.id)
        try:
            report = run(job, progress)
        except DangjianError as exc:
            self._fail(job, exc.message)
        except Exception as exc:  # noqa: BLE001 - the job fails, the worker goes on
            log.exception("job %s failed", job.id)
            self._fail(job, f"内部错误（{type(exc).__name__}）；索引保持原样")
        else:
            job.files += [file_row(r) for r in report.results]
            job.report = report.to_dict()
            job.report.pop("results", None)
            job.eta_s = 0.0
            if not any(row["status"] in ("added", "updated", "unchanged", "duplicate") for row in job.files):
                job.state = "failed"
                reasons = dict.fromkeys(f"{row['name']}：{row['reason']}" for row in job.files)
                job.error = "没有导入任何文件：" + "；".join(reasons)
            else:
                job.state = "done"
            job.finished_at = _now()
            self._save(job)
            log.info("job %s %s", job.id, job.state)
        finally:
            self._discard_staging(job)

    def _fail(self, job: Job, message: str) -> None:
        job.state, job.error, job.finished_at, job.eta_s = "failed", message, _now(), None
        self._save(job)
        log.warning("job %s failed: %s", job.id, message)


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def file_row(result: FileResult) -> dict[str, Any]:
    """A file's row as a job shows it: its own name (not the path it was staged or kept at)."""
    return {
        "name": Path(result.name).name,
        "status": result.status,
        "reason": result.reason,
        "doc_id": result.doc_id,
    }
