"""What the suite itself spent of a URL target's quota, counted across pytest-xdist workers.

``--stack-quota-budget N`` states how many requests the suite's credentials may make today. The
quota checks can only say that the first 429 came "exactly when the budget was spent" if they
know what every other check of the run already spent, in every worker process, and if nothing
else spends while they measure. So each request to the URL target is counted here (by who sent
it: the run's token, the second token, anyone else, no token; and whether it went to
``/v1/health`` or ``/v1/version``, which a target may leave uncounted), each finished check is
counted, and the budget is spent once, by whichever quota check comes first, after every other
check has finished; the others read its record.

The ledger is a JSON file under the report folder, guarded by an exclusive ``flock`` (POSIX): one
run writes it, and the controller clears it before anything is sent.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Routes that may be public (no principal, so maybe not counted against the token's budget).
PUBLIC_KINDS = {"/v1/health": "health", "/v1/version": "version"}
# Who sent a request, by its Authorization header.
PRIMARY, ALT, OTHER, ANONYMOUS = "primary", "alt", "other", "anonymous"
# A request that got no answer may or may not have been counted by the target.
UNANSWERED = "unanswered"
CHECKS_DONE = "checks-done"
# How long the quota checks wait for the rest of the run before calling their verdict inconclusive.
WAIT_FOR_OTHERS_S = 1800.0
POLL_S = 0.2


def sent_key(who: str, path: str) -> str:
    return f"{who}:{PUBLIC_KINDS.get(path.split('?', 1)[0], 'counted')}"


class Ledger:
    """One run's shared counters and the once-only records, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file = folder / "ledger.json"

    def reset(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a+", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self._file.read_text(encoding="utf-8")) if self._file.exists() else {}
                yield state
                self._file.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, key: str, amount: int = 1) -> None:
        with self._locked() as state:
            counts = state.setdefault("counts", {})
            counts[key] = counts.get(key, 0) + amount

    def counts(self) -> dict[str, int]:
        with self._locked() as state:
            return dict(state.get("counts", {}))

    def wait_for(self, key: str, target: int, timeout: float = WAIT_FOR_OTHERS_S) -> bool:
        """Whether counter ``key`` reached ``target`` within ``timeout`` (other workers raise it)."""
        deadline = time.monotonic() + timeout
        while self.counts().get(key, 0) < target:
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_S)
        return True

    def once(self, name: str, produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``produce()``'s record, made by the first caller of the run while the others wait.

        ``produce`` sends requests, which count themselves here, so it runs under a lock of its
        own, not the counters' lock."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{name}.lock", "a+", encoding="utf-8") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                with self._locked() as state:
                    record = state.get("records", {}).get(name)
                if record is None:
                    record = produce()
                    with self._locked() as state:
                        state.setdefault("records", {})[name] = record
                return dict(record)
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)


__all__ = ["ALT", "ANONYMOUS", "CHECKS_DONE", "OTHER", "PRIMARY", "UNANSWERED", "Ledger", "sent_key"]
