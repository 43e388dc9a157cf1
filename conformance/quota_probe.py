"""Spending a URL target's declared quota budget, once per run, and reading the record.

The quota checks against a URL (``--stack-quota-budget N``) all judge one measurement: after
every other check of the run has finished, the suite's token spends what is left of its budget
on ``GET /v1/models`` until the first 429, and then asks what the other callers get. The target
is told nothing; the suite knows what it spent before (`conformance.ledger`), so it can say
whether the first 429 came exactly when the budget was spent, and if not, which accounting it
matches instead (``/v1/health`` counted, or callers counted together).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.http import RecordingClient, StackClient, Unreachable
from conformance.ledger import PRIMARY, UNANSWERED, Ledger

SPENT_ON = "/v1/models"
# Health probes the measurement sends with the token first, so that whether the target counts
# them (QUOTA-007) shows in when the 429 comes.
HEALTH_PROBES = 3
# A second client on loopback: Linux routes all of 127.0.0.0/8 to lo, so the target sees this
# address as the peer of a connection to 127.0.0.1.
SECOND_CLIENT = "127.0.0.2"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Spent:
    """The measurement, as the checks read it."""

    budget: int
    auth_on: bool
    # What the suite's credentials sent today before the measurement spent anything (with auth
    # on, the requests with the run's token; with auth off, all of the suite's): to counted
    # routes, to /v1/version and to /v1/health (which the target may leave uncounted: `after`
    # says whether it did), and requests that got no answer (the target may have counted them).
    counted: int
    version: int
    health: int
    unanswered: int
    # Requests the measurement sent until the first 429 (that one included); None: no 429 came.
    first_429_at: int | None
    sent: int
    over: dict[str, Any] | None
    # Statuses once the budget was spent: "health" and "version" with the token, "anonymous",
    # "alt" (the second token) and "second_address" (anonymous, from 127.0.0.2).
    after: dict[str, Any]
    problem: str | None = None

    def counts(self, route: str) -> bool:
        """Whether the target counts ``route`` (health, version) against this budget: it refuses
        it too once the budget is spent."""
        return self.after.get(route) == 429

    @property
    def before(self) -> int:
        return (
            self.counted
            + (self.version if self.counts("version") else 0)
            + (self.health if self.counts("health") else 0)
        )

    @property
    def exact(self) -> bool:
        """The first 429 came exactly when the declared budget was spent."""
        if self.first_429_at is None:
            return False
        admitted = self.before + self.first_429_at - 1
        return self.budget - self.unanswered <= admitted <= self.budget

    def account(self) -> str:
        """What the suite spent, for a verdict's message."""
        if self.first_429_at is None:
            return (
                f"no 429 after {self.before} counted requests of the run and {self.sent} more "
                f"(declared budget {self.budget})"
            )
        return (
            f"the first 429 came after {self.before} counted requests of the run and {self.first_429_at - 1} more "
            f"(declared budget {self.budget})"
        )


def measure(client: StackClient, ledger: Ledger, budget: int, alt_token: bool) -> dict[str, Any]:
    """Spend the rest of the budget and ask what the other callers get; a JSON-able record."""
    probe = client.recorder([])
    try:
        auth_on = probe.get(SPENT_ON, as_role=None).status == 401
        for _ in range(HEALTH_PROBES):
            probe.get("/v1/health")
        counts = ledger.counts()
        senders = [PRIMARY] if auth_on else [w for w in {k.split(":")[0] for k in counts} if w != UNANSWERED]
        record: dict[str, Any] = {
            "budget": budget,
            "auth_on": auth_on,
            **{
                kind: sum(counts.get(f"{who}:{kind}", 0) for who in senders)
                for kind in ("counted", "version", "health")
            },
            "unanswered": sum(n for key, n in counts.items() if key.startswith(f"{UNANSWERED}:")),
            "first_429_at": None,
            "sent": 0,
            "over": None,
            "after": {},
        }
        if record["counted"] > budget:
            record["problem"] = (
                f"the run's other checks already sent {record['counted']} counted requests with the suite's "
                f"credentials, more than the declared budget of {budget}: declare the budget left for today"
            )
            return record
        for _ in range(budget - record["counted"] + record["unanswered"] + 1):
            answer = probe.get(SPENT_ON)
            record["sent"] += 1
            if answer.status == 429:
                record["first_429_at"] = record["sent"]
                record["over"] = {
                    "content_type": answer.headers.get("content-type", ""),
                    "body": answer.text[:2000],
                    "retry_after": answer.headers.get("retry-after"),
                }
                break
            if answer.status != 200:
                record["problem"] = f"while spending the budget: {answer.describe()}"
                return record
        if record["over"] is not None:
            record["after"] = _others_after(client, probe, auth_on, alt_token)
        return record
    except Unreachable as exc:
        return {"problem": f"the target stopped answering while the budget was spent: {exc}"}


def _others_after(client: StackClient, probe: RecordingClient, auth_on: bool, alt_token: bool) -> dict[str, Any]:
    after: dict[str, Any] = {
        "health": probe.get("/v1/health").status,
        "version": probe.get("/v1/version").status,
        "anonymous": probe.get(SPENT_ON, as_role=None).status,
    }
    if alt_token:
        after["alt"] = probe.get(SPENT_ON, as_role="alt").status
    if not auth_on and urlsplit(client.base_url).hostname in LOOPBACK_HOSTS:
        second = StackClient(client.base_url, {}, client.timeout, SECOND_CLIENT, client.ca_file)
        try:
            after["second_address"] = second.recorder([]).get(SPENT_ON, as_role=None).status
        except Unreachable as exc:
            after["second_address"] = f"unreachable: {exc}"
        finally:
            second.close()
    return after


def read(record: dict[str, Any]) -> Spent:
    if "budget" not in record:
        return Spent(0, False, 0, 0, 0, 0, None, 0, None, {}, problem=record.get("problem"))
    return Spent(**record)


__all__ = ["SECOND_CLIENT", "Spent", "measure", "read"]
