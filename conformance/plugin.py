"""The pytest plugin: options, target and scenario fixtures, requirement bookkeeping, reports.

Registered through the ``pytest11`` entry point. Two ways to aim it:

* ``--stack-url URL``: black-box checks run against that deployment; checks that need to
  start a server with a prepared config are reported not-evaluated unless a launcher is given.
* no URL: the suite launches the target itself (the embedded reference server by default,
  or ``--stack-launcher TEMPLATE``) once per scenario.

Nothing touches the network at collection time; a URL is probed once at session start, so a
dead URL ends the run with one line before any check runs.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.catalog import Requirement, extensions, full_catalog
from conformance.gate import BaselineError, Expected, GateResult, judge, load_baseline
from conformance.generation import Generation, parse_override
from conformance.http import Exchange, RecordingClient, StackClient, Unreachable
from conformance.launchers import Launcher, LaunchError, launcher_from_option
from conformance.options import comma_list, positive_number, register, resolve
from conformance.outcomes import INCONCLUSIVE, not_evaluated, out_of_window
from conformance.report import results_document, terminal_lines, write_reports
from conformance.results import ResultCollector
from conformance.scenarios import DEFAULT_FIXTURES, ScenarioPool
from conformance.target import Target, check_url, detect_generation, redact_url

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
CORE_SCENARIO = "core"
EXIT_UNREACHABLE = 3

EXCHANGES = pytest.StashKey[list[Exchange]]()


@dataclass
class Settings:
    url: str | None
    tokens: dict[str, str | None]
    launcher: Launcher | None
    launcher_label: str
    generation_override: Generation | None
    profiles: list[str]
    requirements: list[str]
    provider_id: str | None
    quota_budget: int | None
    request_timeout: float
    launch_timeout: float
    fixtures: Path
    report_dir: Path | None
    baseline: list[Expected] | None = None
    launcher_unavailable: str | None = None
    detected: Generation | None = None
    started: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


SETTINGS = pytest.StashKey[Settings]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _settings_from(config: pytest.Config) -> Settings:
    try:
        catalog = full_catalog()
    except ValueError as exc:
        raise pytest.UsageError(f"conformance catalog: {exc}") from None
    url = resolve(config, "stack_url")
    if url:
        try:
            url = check_url(url)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    override_text = resolve(config, "stack_generation")
    try:
        override = parse_override(override_text) if override_text else None
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    fixtures = Path(resolve(config, "stack_fixtures") or DEFAULT_FIXTURES)
    if not (fixtures / "scenarios").is_dir():
        # otherwise every launched check would be not-evaluated, and the run would look merely thin
        raise pytest.UsageError(f"--stack-fixtures {fixtures}: no scenarios/ folder there")
    launcher_text = resolve(config, "stack_launcher")
    launcher: Launcher | None = None
    if launcher_text or not url:
        try:
            launcher = launcher_from_option(launcher_text, override, fixtures)
        except LaunchError as exc:
            raise pytest.UsageError(str(exc)) from None
    profiles = comma_list(config, "stack_profile")
    known_profiles = {r.profile for r in catalog.values()}
    if unknown := [p for p in profiles if p not in known_profiles]:
        raise pytest.UsageError(f"--stack-profile: unknown {unknown}; known: {sorted(known_profiles)}")
    requirements = comma_list(config, "stack_requirement")
    if unknown := [r for r in requirements if r not in catalog]:
        raise pytest.UsageError(f"--stack-requirement: unknown ids {unknown}")
    report = resolve(config, "conformance_report")
    baseline_path = resolve(config, "expected_failures")
    try:
        baseline = load_baseline(Path(baseline_path), set(catalog)) if baseline_path else None
    except BaselineError as exc:
        raise pytest.UsageError(str(exc)) from None
    return Settings(
        url=url,
        tokens={"primary": resolve(config, "stack_token"), "alt": resolve(config, "stack_token_alt")},
        launcher=launcher,
        launcher_label=("none" if launcher is None else launcher.name),
        generation_override=override,
        profiles=profiles,
        requirements=requirements,
        provider_id=resolve(config, "provider_id"),
        quota_budget=_budget(resolve(config, "stack_quota_budget")),
        request_timeout=positive_number(config, "request_timeout"),
        launch_timeout=positive_number(config, "stack_launch_timeout"),
        fixtures=fixtures,
        report_dir=Path(report) if report else None,
        baseline=baseline,
    )


def _budget(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1 or int(text) > 100_000:
        raise pytest.UsageError(f"--stack-quota-budget: expected a number of requests from 1 to 100000, got {text!r}")
    return int(text)


# ---------------------------------------------------------------------------------- hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    register(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the catalog requirements a check verifies")
    settings = _settings_from(config)
    config.stash[SETTINGS] = settings
    if settings.launcher is not None and not config.option.collectonly:
        # Only the controller installs a release; xdist workers find what it built.
        settings.launcher_unavailable = settings.launcher.prepare(install=not _is_worker(config))
        if settings.launcher_unavailable:
            settings.launcher_label = f"{settings.launcher.name} (unavailable: {settings.launcher_unavailable})"
    if not _is_worker(config):
        config.pluginmanager.register(Reporter(settings, ResultCollector(full_catalog())), "llama-stack-reporter")
    # ``pytest --stack-url=URL`` from any folder: with no paths given, run the installed checks.
    if config.args_source == pytest.Config.ArgsSource.INCOVATION_DIR and config.stash[SETTINGS].url:
        config.args[:] = [str(CHECKS_DIR)]
    # A run of the suite's checks runs the installed extensions' checks with them.
    if any(_is_checks_dir(config, arg) for arg in config.args):
        config.args += [str(e.folder) for e in extensions() if str(e.folder) not in config.args]


def _is_checks_dir(config: pytest.Config, arg: str) -> bool:
    path = Path(arg.split("::", maxsplit=1)[0])
    return (path if path.is_absolute() else config.invocation_params.dir / path).resolve() == CHECKS_DIR


def pytest_sessionstart(session: pytest.Session) -> None:
    settings = session.config.stash[SETTINGS]
    if settings.url is None or settings.generation_override or session.config.option.collectonly:
        return
    client = StackClient(settings.url, settings.tokens, settings.request_timeout)
    try:
        settings.detected = detect_generation(client)
    except Unreachable as exc:
        pytest.exit(f"conformance: cannot reach {redact_url(settings.url)}: {exc}", returncode=EXIT_UNREACHABLE)
    except AssertionError as exc:
        pytest.exit(
            f"conformance: {redact_url(settings.url)} does not answer like a Llama Stack: {exc}",
            returncode=EXIT_UNREACHABLE,
        )
    finally:
        client.close()


def _generation_label(settings: Settings) -> str:
    if settings.generation_override:
        return settings.generation_override.describe()
    if settings.detected:
        return settings.detected.describe()
    if settings.launcher is not None and settings.launcher.generation is not None:
        return settings.launcher.generation.describe()
    return "detected when the first scenario starts"


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    target = redact_url(settings.url) if settings.url else "launched per scenario"
    return [
        f"llama-stack conformance {__version__}: target {target}; generation {_generation_label(settings)}; "
        f"launcher {settings.launcher_label}"
    ]


def _requirement_ids(item: pytest.Item) -> list[str]:
    return [str(arg) for marker in item.iter_markers("requirement") for arg in marker.args]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
            item.user_properties.append(("requirement", requirement_id))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    exchanges = item.stash.get(EXCHANGES, None)
    if report.failed and exchanges:
        curls = [exchange.curl() for exchange in exchanges[-3:]]
        report.user_properties.extend(("curl", line) for line in curls)
        report.sections.append(("reproduce with curl", "\n".join(curls)))
    return report


def _meta(settings: Settings) -> dict[str, Any]:
    return {
        "suite_version": __version__,
        "started": settings.started,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "target": {
            "url": redact_url(settings.url) if settings.url else None,
            "launcher": settings.launcher_label,
            "generation": _generation_label(settings),
            "credentials": {role: ("given" if token else "none") for role, token in settings.tokens.items()},
        },
        "python": sys.version.split()[0],
    }


class Reporter:
    """Registered in the controller only: turns reports into verdicts, prints and writes them."""

    def __init__(self, settings: Settings, collector: ResultCollector) -> None:
        self.settings = settings
        self.collector = collector
        self.written: list[Path] = []
        self.gate: GateResult | None = None
        # Failed tests that name no requirement: a baseline can never excuse them.
        self.untracked_failures: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add(report)
        tracked = any(name == "requirement" for name, _ in report.user_properties)
        if report.failed and not tracked and report.nodeid not in self.untracked_failures:
            self.untracked_failures.append(report.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.collector.checks():
            return
        verdicts = self.collector.verdicts()
        judged = session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        if self.settings.baseline is not None and judged:
            self.gate = judge(self.settings.baseline, verdicts, self.collector.checks(), self.untracked_failures)
            session.exitstatus = pytest.ExitCode.OK if self.gate.passed else pytest.ExitCode.TESTS_FAILED
        inconclusive = [v.requirement.id for v in verdicts if v.verdict == INCONCLUSIVE]
        if inconclusive and session.exitstatus == pytest.ExitCode.OK:
            # A run that could not have failed must not gate green in CI.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.settings.report_dir is None:
            return
        doc = results_document(_meta(self.settings), verdicts, self.collector.catalog, self.gate)
        self.written = write_reports(self.settings.report_dir, doc)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.collector.checks():
            return
        terminalreporter.section("llama-stack conformance: verdict per requirement")
        for line in terminal_lines(self.collector.verdicts(), self.collector.catalog, self.gate):
            terminalreporter.write_line(line)
        for path in self.written:
            terminalreporter.write_line(f"report: {path}")


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def stack_settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def stack_pool(stack_settings: Settings) -> Iterator[ScenarioPool | None]:
    if stack_settings.launcher is None:
        yield None
        return
    if stack_settings.launcher_unavailable:
        not_evaluated(f"launcher unavailable: {stack_settings.launcher_unavailable}")
    pool = ScenarioPool(stack_settings.launcher, stack_settings.fixtures, stack_settings.launch_timeout)
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
    client = StackClient(url, stack_settings.tokens, stack_settings.request_timeout)
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
    if not ids:
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


@dataclass
class ScenarioAccess:
    """What a managed check uses: start scenarios, and talk to them with a recorded client."""

    pool: ScenarioPool
    settings: Settings
    exchanges: list[Exchange]
    _clients: list[StackClient] = field(default_factory=list)

    def client(self, url: str) -> RecordingClient:
        stack = StackClient(url, self.settings.tokens, self.settings.request_timeout)
        self._clients.append(stack)
        return stack.recorder(self.exchanges)

    def close(self) -> None:
        for stack in self._clients:
            stack.close()


@pytest.fixture
def scenarios(
    request: pytest.FixtureRequest, stack_settings: Settings, stack_pool: ScenarioPool | None
) -> Iterator[ScenarioAccess]:
    """Managed checks start prepared configs; without a launcher they are not evaluated."""
    if stack_pool is None:
        not_evaluated("needs a launcher to start scenario configs (run without --stack-url, or pass --stack-launcher)")
    exchanges: list[Exchange] = []
    request.node.stash[EXCHANGES] = exchanges
    access = ScenarioAccess(stack_pool, stack_settings, exchanges)
    try:
        yield access
    finally:
        access.close()
