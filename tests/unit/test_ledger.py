"""The ledger counts what several processes add, and makes a once-only record exactly once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from conformance.ledger import Ledger, sent_key

ADDS = 200


def _add_many(folder: str) -> None:
    ledger = Ledger(Path(folder))
    for _ in range(ADDS):
        ledger.add("primary:counted")


def _record_once(folder: str) -> None:
    ledger = Ledger(Path(folder))

    def produce() -> dict[str, Any]:
        ledger.add("produced")  # the counters stay usable while the record is made
        return {"by": multiprocessing.current_process().name}

    ledger.once("quota", produce)


def _run(target: Any, folder: Path, processes: int) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=target, args=(str(folder),)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0


def test_counts_from_several_processes_add_up(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    ledger.reset()
    _run(_add_many, ledger.folder, 3)
    assert ledger.counts() == {"primary:counted": 3 * ADDS}


def test_a_record_is_made_once_and_read_by_everyone(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    ledger.reset()
    _run(_record_once, ledger.folder, 4)
    assert ledger.counts() == {"produced": 1}
    assert ledger.once("quota", lambda: {"by": "late"})["by"] != "late"


def test_reset_forgets_an_earlier_run(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    ledger.add("checks-done", 5)
    ledger.reset()
    assert ledger.counts() == {}
    assert not ledger.wait_for("checks-done", 1, timeout=0)


def test_public_routes_are_counted_apart() -> None:
    assert sent_key("primary", "/v1/models") == "primary:counted"
    assert sent_key("primary", "/v1/health?x=1") == "primary:health"
    assert sent_key("anonymous", "/v1/version") == "anonymous:version"
