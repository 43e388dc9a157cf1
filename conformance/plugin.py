"""The pytest plugin: hooks and fixtures. Settings live in `conformance.settings`, verdicts and
report files in `conformance.reporter`.

Registered through the ``pytest11`` entry point, and inert until asked (see
`conformance.settings.asked`). Two ways to aim it:

* ``--stack-url URL``: black-box checks run against that deployment; checks that need to
  start a server with a prepared config are reported not-evaluated unless a launcher is given.
* no URL: the suite launches the target itself (the embedded reference server by default,
  or ``--stack-launcher TEMPLATE``) once per scenario.

Nothing touches the network at collection time; a URL is probed once before the session
starts, so a dead URL ends the run with one line before any check runs.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from conformance.catalog import Requirement, full_catalog
from conformance.generation import Generation
from conformance.http import Exchange, RecordingClient, StackClient, Unreachable
from conformance.launchers.base import Running
from conformance.ledger import CHECKS_DONE, WAIT_FOR_OTHERS_S
from conformance.options import register
from conformance.outcomes import inconclusive, not_evaluated, out_of_window
from conformance.quota_probe import Spent, measure, read
from conformance.report import LAUNCHER_HINT
from conformance.reporter import Reporter, generation_label
from conformance.results import CURL, NOTE, REQUIREMENT, SERVER_LOG, ResultCollector
from conformance.scenarios import Launched, ScenarioPool
from conformance.secrets import SECRETS
from conformance.settings import Settings, aim_collection, asked, settings_from
from conformance.target import NotLlamaStack, Target, detect_generation, redact_url
from conformance.version import __version__

CORE_SCENARIO = "core"

# Exit codes of a run that could not grade the target (README, "Exit codes").
EXIT_UNREACHABLE = 3
EXIT_NOT_A_STACK = 6

EXCHANGES = pytest.StashKey[list[Exchange]]()
# The folders (under the report's servers/) of the launched servers a check used.
SERVER_LOGS = pytest.StashKey[list[str]]()
SETTINGS = pytest.StashKey[Settings]()
# How many selected checks do not spend the quota budget (they all finish before it is spent).
OTHER_CHECKS = pytest.StashKey[int]()
QUOTA_SPENT_FIXTURE = "quota_spent"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _active(config: pytest.Config) -> bool:
    return SETTINGS in config.stash


# ---------------------------------------------------------------------------------- hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    register(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Read the settings, and probe a URL once, before pytest starts anything.

    A target that cannot be graded (unreachable, or not a Llama Stack at all) ends the run here
    with one line and its own exit code: no session, no collection, no wall of failures."""
    if not asked(config):
        return None
    settings = config.stash[SETTINGS] = settings_from(config)
    asked_for_help = config.option.help or getattr(config.option, "version", False)
    if settings.url is None or _is_worker(config) or config.option.collectonly or asked_for_help:
        return None
    if settings.ledger is not None:
        settings.ledger.reset()  # before the first request it counts
    client = StackClient(
        settings.url, settings.tokens, settings.request_timeout, ca_file=settings.ca_file, ledger=settings.ledger
    )
    where = redact_url(settings.url)
    try:
        settings.detected = detect_generation(client)
    except Unreachable as exc:
        return _stop(f"conformance: cannot reach {where}: {exc}", EXIT_UNREACHABLE)
    except NotLlamaStack as exc:
        return _stop(f"conformance: {where} does not look like a Llama Stack or OGX server: {exc}", EXIT_NOT_A_STACK)
    finally:
        client.close()
    return None


def _stop(line: str, code: int) -> int:
    sys.stderr.write(SECRETS.scrub(line) + "\n")
    return code


def _interrupt_on_sigterm(config: pytest.Config) -> None:
    """A CI job that runs out of time ends the run with SIGTERM, and pytest would die on the spot:
    no fixture torn down, and every server and fake it launched (each in a process group of its
    own, so that it can be stopped whole) left running. SIGTERM becomes the KeyboardInterrupt that
    pytest already unwinds from, finalising fixtures and so stopping what they started."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return  # the embedding program handles it

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"terminated by signal {signum}")

    def restore() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, interrupt)
    config.add_cleanup(restore)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the catalog requirements a check verifies")
    if not _active(config):
        return  # installed but not asked: the user's unrelated test run stays as it was
    _interrupt_on_sigterm(config)
    settings = config.stash[SETTINGS]
    if settings.launcher is not None and not config.option.collectonly:
        # Only the controller installs a release; xdist workers find what it built.
        settings.launcher_unavailable = settings.launcher.prepare(install=not _is_worker(config))
        if settings.launcher_unavailable:
            settings.launcher_label = f"{settings.launcher.name} (unavailable: {settings.launcher_unavailable})"
    if not _is_worker(config):
        # The servers' output is kept per run; an earlier run's logs would be evidence of nothing.
        shutil.rmtree(settings.report_dir / "servers", ignore_errors=True)
        config.pluginmanager.register(Reporter(settings, ResultCollector(full_catalog())), "llama-stack-reporter")
    aim_collection(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not _active(config):
        return []
    settings = config.stash[SETTINGS]
    target = redact_url(settings.url) if settings.url else "launched per scenario"
    lines = [
        f"llama-stack conformance {__version__}: target {target}; generation {generation_label(settings)}; "
        f"launcher {settings.launcher_label}"
    ]
    if settings.launcher is not None and (packages := settings.launcher.resolved()):
        lines.append(f"launcher environment: {len(packages)} packages, listed in results.json (target.packages)")
    return lines


def _requirement_ids(item: pytest.Item) -> list[str]:
    return [str(arg) for marker in item.iter_markers("requirement") for arg in marker.args]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _active(config):
        return
    settings = config.stash[SETTINGS]
    catalog = full_catalog()
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        ids = _requirement_ids(item)
        if unknown := [i for i in ids if i not in catalog]:
            raise pytest.UsageError(f"{item.nodeid}: requirement marker names unknown ids {unknown}")
        keep = True
        if ids and settings.profiles:
            keep = any(catalog[i].profile in settings.profiles for i in ids)
        if ids and settings.requirements:
            keep = keep and any(i in settings.requirements for i in ids)
        if not ids and (settings.profiles or settings.requirements):
            keep = False
        (selected if keep else deselected).append(item)
        for requirement_id in ids:
            item.user_properties.append((REQUIREMENT, requirement_id))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    # The checks that spend a URL target's quota come last, after everything they must not starve.
    items.sort(key=_spends_budget)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Count the checks the quota measurement waits for once every plugin has deselected its own
    (``-k`` and ``-m`` may run after this plugin's modifyitems)."""
    if _active(session.config):
        session.config.stash[OTHER_CHECKS] = sum(1 for item in session.items if not _spends_budget(item))


def _spends_budget(item: pytest.Item) -> bool:
    return QUOTA_SPENT_FIXTURE in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """Count the finished checks that do not spend the budget: the one that does waits for all."""
    try:
        return (yield)
    finally:
        ledger = item.config.stash[SETTINGS].ledger if _active(item.config) else None
        if ledger is not None and not _spends_budget(item):
            ledger.add(CHECKS_DONE)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if not _active(item.config):
        return report
    exchanges = item.stash.get(EXCHANGES, None)
    if report.when == "call":
        report.user_properties.extend((SERVER_LOG, f"servers/{name}/") for name in item.stash.get(SERVER_LOGS, []))
    if report.failed and exchanges:
        curls = [exchange.curl() for exchange in exchanges[-3:]]
        report.user_properties.extend((CURL, line) for line in curls)
        report.sections.append(("reproduce with curl", "\n".join(curls)))
    return _scrubbed(report)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report: pytest.CollectReport = yield
    return _scrubbed(report) if _active(collector.config) else report


ReportT = TypeVar("ReportT", pytest.TestReport, pytest.CollectReport)


def _scrubbed(report: ReportT) -> ReportT:
    """Mask the run's secrets in everything pytest will print or write for this report (the
    terminal, JUnit, the verdicts), before any of them reads it."""
    if SECRETS:
        report.longrepr = SECRETS.scrub_deep(report.longrepr)
        report.sections = SECRETS.scrub_deep(report.sections)
        if isinstance(report, pytest.TestReport):
            report.user_properties = SECRETS.scrub_deep(list(report.user_properties))
    return report


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def stack_settings(pytestconfig: pytest.Config) -> Settings:
    if not _active(pytestconfig):
        pytest.fail("the conformance plugin was not asked to run: give --stack-url or --stack-launcher", pytrace=False)
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def stack_pool(stack_settings: Settings) -> Iterator[ScenarioPool | None]:
    if stack_settings.launcher is None:
        yield None
        return
    if stack_settings.launcher_unavailable:
        not_evaluated(f"launcher unavailable: {stack_settings.launcher_unavailable}")
    pool = ScenarioPool(
        stack_settings.launcher,
        stack_settings.fixtures,
        stack_settings.launch_timeout,
        log_dir=stack_settings.report_dir / "servers",
    )
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def stack_target(stack_settings: Settings, stack_pool: ScenarioPool | None) -> Iterator[Target]:
    """The deployment black-box checks talk to: the URL, or the launched ``core`` scenario."""
    if stack_settings.url:
        url = stack_settings.url
    else:
        assert stack_pool is not None
        url = stack_pool.shared(CORE_SCENARIO).url
    ledger = stack_settings.ledger if stack_settings.url else None
    client = StackClient(
        url, stack_settings.tokens, stack_settings.request_timeout, ca_file=stack_settings.ca_file, ledger=ledger
    )
    try:
        yield Target(url, client, _generation_of(stack_settings, client))
    finally:
        client.close()


def _generation_of(settings: Settings, client: StackClient) -> Generation:
    known = _known_generation(settings)
    if known is None:
        settings.detected = known = detect_generation(client)
    return known


def _known_generation(settings: Settings) -> Generation | None:
    """The generation without asking the target, when options or the launcher tell it."""
    if settings.generation_override:
        return settings.generation_override
    if settings.detected:
        return settings.detected
    if settings.url is None and settings.launcher is not None:
        return settings.launcher.generation
    return None


@pytest.fixture(scope="session")
def stack_generation(request: pytest.FixtureRequest, stack_settings: Settings) -> Generation:
    known = _known_generation(stack_settings)
    if known is not None:
        return known
    target: Target = request.getfixturevalue("stack_target")
    return target.generation


@pytest.fixture(autouse=True)
def _requirement_window(request: pytest.FixtureRequest) -> None:
    """Skip (out-of-window) a check whose requirements all lie outside the target's generation."""
    ids = _requirement_ids(request.node)
    if not ids or not _active(request.config):
        return
    generation: Generation = request.getfixturevalue("stack_generation")
    catalog = full_catalog()
    applicable: list[Requirement] = [
        catalog[i] for i in ids if generation.in_window(catalog[i].since, catalog[i].until)
    ]
    if not applicable:
        windows = "; ".join(f"{i} applies to {catalog[i].window()}" for i in ids)
        out_of_window(f"{generation.name}: {windows}")


@pytest.fixture
def stack_api(request: pytest.FixtureRequest, stack_target: Target) -> RecordingClient:
    """The black-box target's HTTP client for one check; its requests become curl lines on failure."""
    exchanges: list[Exchange] = []
    request.node.stash[EXCHANGES] = exchanges
    return stack_target.client.recorder(exchanges)


@pytest.fixture
def quota_spent(request: pytest.FixtureRequest, stack_settings: Settings, stack_target: Target) -> Spent:
    """Against a URL, only with ``--stack-quota-budget``: the run's one measurement of the
    target's quota (`conformance.quota_probe`), made after every other check has finished."""
    budget, ledger = stack_settings.quota_budget, stack_settings.ledger
    if budget is None or ledger is None:
        pytest.skip("quota checks spend the target's budget; opt in with --stack-quota-budget N")
    if not ledger.wait_for(CHECKS_DONE, request.config.stash.get(OTHER_CHECKS, 0)):
        inconclusive(f"the run's other checks did not finish within {WAIT_FOR_OTHERS_S:g} s; the budget was not spent")
    alt = bool(stack_settings.tokens.get("alt"))
    spent = read(ledger.once("quota", lambda: measure(stack_target.client, ledger, budget, alt)))
    if spent.problem:
        inconclusive(spent.problem)
    request.node.user_properties.append((NOTE, spent.account()))
    return spent


@dataclass
class ScenarioAccess:
    """What a managed check uses: start scenarios, and talk to them with a recorded client."""

    pool: ScenarioPool
    settings: Settings
    exchanges: list[Exchange]
    _clients: list[StackClient] = field(default_factory=list)

    def client(self, url: str, outlast: float = 0.0, local_address: str | None = None) -> RecordingClient:
        """A recorded client; ``outlast`` (seconds) lengthens its timeout for a check that must wait
        out a target's own timeout before the answer can come; ``local_address`` sends from another
        loopback address (a second client, for the server)."""
        timeout = self.settings.request_timeout + outlast
        ca = self.pool.trusted_ca(url)
        stack = StackClient(url, self.settings.tokens, timeout, local_address, str(ca) if ca else None)
        self._clients.append(stack)
        return stack.recorder(self.exchanges)

    def restart(self, launched: Launched) -> RecordingClient:
        """Restart a launched scenario on its saved state; a server that will not come back fails
        the check with what it printed. The recorded client of the new server is returned."""
        restarted = self.pool.restart(launched)
        if not isinstance(restarted.outcome, Running):
            output = (restarted.outcome.stderr + restarted.outcome.stdout).strip()[-400:]
            pytest.fail(
                f"the server exited when restarted on its saved state (exit {restarted.outcome.returncode}): {output}"
            )
        return self.client(launched.url)

    def close(self) -> None:
        for stack in self._clients:
            stack.close()


@pytest.fixture
def scenarios(
    request: pytest.FixtureRequest, stack_settings: Settings, stack_pool: ScenarioPool | None
) -> Iterator[ScenarioAccess]:
    """Managed checks start prepared configs; without a launcher they are not evaluated."""
    if stack_pool is None:
        not_evaluated(f"needs a launcher to start prepared configs: {LAUNCHER_HINT}")
    exchanges: list[Exchange] = []
    request.node.stash[EXCHANGES] = exchanges
    stack_pool.used = request.node.stash[SERVER_LOGS] = []
    access = ScenarioAccess(stack_pool, stack_settings, exchanges)
    try:
        yield access
    finally:
        access.close()
