"""A small in-process registry of background jobs (simulation runs) and kept results.

The web application runs one process, so long model runs go to a background thread and the
browser polls for their progress. Each :class:`Job` has a random id (unguessable, so a link to
it can be shared), a status, progress (done of total), a result when it ends and, where it
writes files (reports, CSV tables), its own folder under the registry's root.

The registry is thread-safe (one lock) and bounded: it keeps at most ``max_jobs`` jobs and
forgets the oldest finished ones (deleting their folders) to make room; it runs at most
``max_running`` jobs at a time and refuses more with :class:`JobsBusy`. Pure Python: no web
framework here.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from flowplan.errors import FlowplanError

__all__ = ["Job", "JobContext", "JobRegistry", "JobStatus", "JobsBusy"]

DEFAULT_MAX_JOBS = 50
DEFAULT_MAX_RUNNING = 2


class JobStatus(StrEnum):
    """Where a job is in its life."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @property
    def finished(self) -> bool:
        """Whether the job has ended (done or failed)."""
        return self in (JobStatus.done, JobStatus.failed)


class JobsBusy(FlowplanError):
    """The registry is full of running jobs, or runs as many as it may: try again later."""


@dataclass
class Job:
    """One job: what it is, whose it is, how far it got and what it gave.

    Attributes:
        id: random URL-safe id.
        kind: what sort of job (``simulation``, ``review``, ``forecast``, ...).
        owner: username of who started it.
        title: a line saying what it does.
        params: the parameters it was started with (for display and look-up).
        key: a hashable summary of the parameters, to find a kept result again (or None).
        status: queued, running, done or failed.
        done: units of work finished.
        total: units of work in all (0 while unknown).
        stage: what it is doing now, one line.
        result: what the work returned (when done).
        errors: one-line messages (when failed).
        folder: the job's own folder for files it writes (None when it writes none).
        created: when it was registered (UTC).
        finished_at: when it ended (UTC; None while running).
    """

    id: str
    kind: str
    owner: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    key: Hashable | None = None
    status: JobStatus = JobStatus.queued
    done: int = 0
    total: int = 0
    stage: str = ""
    result: Any = None
    errors: list[str] = field(default_factory=list)
    folder: Path | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    @property
    def percent(self) -> int:
        """Progress in whole percent (0 while the total is unknown; 100 when done)."""
        if self.status is JobStatus.done:
            return 100
        if self.total <= 0:
            return 0
        return max(0, min(100, int(100 * self.done / self.total)))


class JobContext:
    """What a job's work function gets: its folder, and ways to report progress.

    Args:
        registry: the registry the job belongs to.
        job_id: the job's id.
        folder: the job's folder (None when it has none).
    """

    def __init__(self, registry: JobRegistry, job_id: str, folder: Path | None) -> None:
        self._registry = registry
        self.job_id = job_id
        self.folder = folder

    def progress(self, done: int, total: int) -> None:
        """Record that ``done`` of ``total`` units are finished."""
        self._registry.update(self.job_id, done=done, total=total)

    def stage(self, text: str) -> None:
        """Record what the job is doing now (one line)."""
        self._registry.update(self.job_id, stage=text)


Work = Callable[[JobContext], Any]


class JobRegistry:
    """Jobs of this process, run in background threads.

    Args:
        max_jobs: jobs kept at most (finished ones are forgotten oldest first).
        max_running: jobs running at the same time at most.
        root: folder holding the jobs' folders (default: a new temporary folder).
    """

    def __init__(
        self,
        max_jobs: int = DEFAULT_MAX_JOBS,
        max_running: int = DEFAULT_MAX_RUNNING,
        root: Path | None = None,
    ) -> None:
        if max_jobs < 1 or max_running < 1:
            raise ValueError("max_jobs and max_running must be ≥ 1")
        self.max_jobs = max_jobs
        self.max_running = max_running
        self._root = root
        self._jobs: dict[str, Job] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    # --- queries -----------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        """A copy of the job as it is now (None when unknown or forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else dataclasses.replace(job)

    def find(self, kind: str, key: Hashable) -> Job | None:
        """The newest finished-and-done job of ``kind`` with ``key`` (a copy), or None."""
        with self._lock:
            for job in reversed(list(self._jobs.values())):
                if job.kind == kind and job.key == key and job.status is JobStatus.done:
                    return dataclasses.replace(job)
        return None

    def jobs(self, kind: str | None = None, owner: str | None = None) -> list[Job]:
        """Copies of the kept jobs, newest first (of one kind and owner when given)."""
        with self._lock:
            found = [
                dataclasses.replace(j)
                for j in self._jobs.values()
                if (kind is None or j.kind == kind) and (owner is None or j.owner == owner)
            ]
        return found[::-1]

    def running(self) -> int:
        """Jobs queued or running now."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if not j.status.finished)

    # --- changes -----------------------------------------------------------------------------

    def update(self, job_id: str, **changes: Any) -> None:
        """Change fields of a job (ignored when it has been forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            for name, value in changes.items():
                setattr(job, name, value)

    def add(
        self,
        kind: str,
        owner: str,
        title: str,
        result: Any,
        *,
        params: dict[str, Any] | None = None,
        key: Hashable | None = None,
        folder: Path | None = None,
    ) -> Job:
        """Keep a result worked out already (a finished job), e.g. a review written to
        ``folder`` (see :meth:`new_folder`).

        Returns:
            A copy of the job.
        """
        now = datetime.now(UTC)
        job = Job(
            id=self._new_id(),
            kind=kind,
            owner=owner,
            title=title,
            params=dict(params or {}),
            key=key,
            status=JobStatus.done,
            done=1,
            total=1,
            result=result,
            folder=folder,
            finished_at=now,
        )
        with self._lock:
            self._make_room(needs_running_slot=False)
            self._jobs[job.id] = job
            return dataclasses.replace(job)

    def submit(
        self,
        kind: str,
        owner: str,
        title: str,
        work: Work,
        *,
        params: dict[str, Any] | None = None,
        key: Hashable | None = None,
        with_folder: bool = True,
    ) -> Job:
        """Start ``work(context)`` in a background thread; its return value is the result.

        A :class:`~flowplan.errors.FlowplanError` raised by the work fails the job with its
        lines; any other exception fails it with the exception's type and text.

        Returns:
            A copy of the job (queued).

        Raises:
            JobsBusy: ``max_running`` jobs are running, or every kept job is still running.
        """
        job = Job(
            id=self._new_id(),
            kind=kind,
            owner=owner,
            title=title,
            params=dict(params or {}),
            key=key,
        )
        with self._lock:
            self._make_room(needs_running_slot=True)
            self._jobs[job.id] = job
            snapshot = dataclasses.replace(job)
        folder = self.new_folder(job.id) if with_folder else None
        self.update(job.id, folder=folder)
        snapshot.folder = folder
        thread = threading.Thread(
            target=self._run,
            args=(job.id, work, JobContext(self, job.id, folder)),
            name=f"flowplan-job-{job.id[:8]}",
            daemon=True,
        )
        with self._lock:
            self._threads[job.id] = thread
        thread.start()
        return snapshot

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Wait until the job's thread ends (or ``timeout`` seconds pass); the job as it is."""
        with self._lock:
            thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)
        return self.get(job_id)

    def new_folder(self, name: str | None = None) -> Path:
        """A new empty folder under the registry's root (for a job's files)."""
        root = self._root_folder()
        folder = root / (name or self._new_id())
        folder.mkdir(parents=True, exist_ok=False)
        return folder

    def clear(self) -> None:
        """Forget finished jobs and delete their folders (running jobs are kept)."""
        with self._lock:
            gone = [j for j in self._jobs.values() if j.status.finished]
            for job in gone:
                self._forget(job)

    # --- internals ---------------------------------------------------------------------------

    @staticmethod
    def _new_id() -> str:
        return secrets.token_urlsafe(16)

    def _root_folder(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="flowplan-jobs-"))
            root = self._root
        root.mkdir(parents=True, exist_ok=True)
        return root

    def _make_room(self, *, needs_running_slot: bool) -> None:
        """Forget the oldest finished jobs until one more fits (lock held)."""
        active = sum(1 for j in self._jobs.values() if not j.status.finished)
        if needs_running_slot and active >= self.max_running:
            raise JobsBusy(
                f"{active} model run(s) are in progress, the most this server runs at once; "
                "try again when one has finished"
            )
        while len(self._jobs) >= self.max_jobs:
            finished = [j for j in self._jobs.values() if j.status.finished]
            if not finished:
                raise JobsBusy("every kept job is still running; try again later")
            self._forget(min(finished, key=lambda j: j.finished_at or j.created))

    def _forget(self, job: Job) -> None:
        """Drop a job and delete its folder (lock held)."""
        self._jobs.pop(job.id, None)
        self._threads.pop(job.id, None)
        if job.folder is not None:
            shutil.rmtree(job.folder, ignore_errors=True)

    def _run(self, job_id: str, work: Work, context: JobContext) -> None:
        self.update(job_id, status=JobStatus.running)
        try:
            result = work(context)
        except FlowplanError as exc:
            self._finish(job_id, JobStatus.failed, errors=exc.lines())
        except Exception as exc:  # a job must always end, with a message
            self._finish(job_id, JobStatus.failed, errors=[f"{type(exc).__name__}: {exc}"])
        else:
            self._finish(job_id, JobStatus.done, result=result)

    def _finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: Any = None,
        errors: list[str] | None = None,
    ) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            job.status = status
            job.result = result
            job.errors = list(errors or [])
            job.finished_at = datetime.now(UTC)
            if status is JobStatus.done and job.total:
                job.done = job.total
            self._threads.pop(job_id, None)
