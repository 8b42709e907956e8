"""Grading on a Ray cluster: `python -m grader grade ... --executor ray [--address ADDR]`.

The driver (the `grade` command) reads every submission and decides what is left to grade, exactly as
the local executor does; Ray actors, each with its own warm sandbox, grade them; the driver receives
the reports as text and writes them itself, atomically, so resuming works the same way. Every actor
uses the same isolation as a local run. When the cluster has GPUs, each submission's training smoke
runs (the checks marked `slow`) go to a GPU actor and the other checks to a CPU actor, and the driver
merges the two halves; otherwise one CPU actor runs every check.

Ray is an optional extra (`pip install 'hw2-grader[ray]'`); nothing else imports this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from grader.errors import GraderError
from grader.scoring import CheckResult, ScoreBook


def connect(address: str | None) -> Any:
    """Start a local Ray instance (no address) or join the cluster at `address`."""
    try:
        import ray
    except ImportError:
        raise GraderError("--executor ray needs Ray: pip install 'hw2-grader[ray]'") from None
    if not ray.is_initialized():
        ray.init(
            address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True
        )
    return ray


class _Grader:
    """A Ray actor: one `Worker` (a warm sandbox on a core of its own), grading one (part of a)
    submission at a time and sending its results back as plain records."""

    def __init__(self) -> None:
        from grader.batch.worker import Worker

        self.worker = Worker(pin=True)
        self.worker.launch()  # its template imports torch while the first session collects

    def grade(self, name: str, data: bytes, select: tuple[str, ...]) -> dict[str, Any]:
        from dataclasses import asdict

        book = self.worker.grade(name, data, select)
        return {"isolation": book.isolation, "results": [asdict(result) for result in book.results]}


def grade_on_ray(
    submissions: Sequence[tuple[str, bytes]],
    *,
    address: str | None,
    workers: int,
    select: tuple[str, ...] = (),
    split_smoke_runs: bool | None = None,
    gpus_per_smoke_run: float | None = None,
) -> Iterator[tuple[int, ScoreBook]]:
    """Grade (name, content) pairs on Ray; yields (index, ScoreBook) as submissions finish.

    `split_smoke_runs` defaults to whether the cluster has GPUs; the smoke-run half then asks for
    `gpus_per_smoke_run` GPUs (default 1, or 0 on a cluster without GPUs).
    """
    ray = connect(address)
    has_gpu = float(ray.cluster_resources().get("GPU", 0)) > 0
    split = has_gpu if split_smoke_runs is None else split_smoke_runs
    gpus = (1.0 if has_gpu else 0.0) if gpus_per_smoke_run is None else gpus_per_smoke_run
    actor = ray.remote(num_cpus=1)(_Grader)
    cpu_actors = [actor.remote() for _ in range(max(1, workers))]
    gpu_actors = [ray.remote(num_cpus=1, num_gpus=gpus)(_Grader).remote()] if split else []
    parts: dict[Any, tuple[int, int]] = {}  # ray reference -> (submission index, number of parts)
    for index, (name, data) in enumerate(submissions):
        cpu = cpu_actors[index % len(cpu_actors)]
        if split:
            parts[cpu.grade.remote(name, data, (*select, "-m", "not slow"))] = (index, 2)
            parts[gpu_actors[0].grade.remote(name, data, (*select, "-m", "slow"))] = (index, 2)
        else:
            parts[cpu.grade.remote(name, data, select)] = (index, 1)
    collected: dict[int, list[dict[str, Any]]] = {}
    pending = list(parts)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for reference in done:
            index, count = parts[reference]
            collected.setdefault(index, []).append(ray.get(reference))
            if len(collected[index]) == count:
                halves = collected.pop(index)
                records = [r for half in halves for r in half["results"]]
                yield index, merge(records, halves[0]["isolation"])


def merge(records: list[dict[str, Any]], isolation: str = "") -> ScoreBook:
    """One ScoreBook from the results of a submission's parts, in the homework's order of items."""
    from grader.intake.submission import HOMEWORK_ITEMS

    order = {item: i for i, item in enumerate(HOMEWORK_ITEMS)}
    results = [CheckResult(**record) for record in records]
    results.sort(key=lambda r: order.get(r.item, len(order)))
    return ScoreBook(isolation=isolation, results=results)
