"""Async jobs: ``POST /api/jobs/{tenant}/{name}`` answers 202 at once; a worker runs the function later.

    records.py  Job, JobRequest, Run: what the queue stores and hands out
    queue.py    JobQueue: the ``jobs`` and ``runs`` tables (SQLite, or PostgreSQL ``SKIP LOCKED``)
    retry.py    which failures are tried again, and the backoff
    worker.py   JobWorker: claims and runs jobs in every gateway process (started by ``Gateway.start``)
"""
