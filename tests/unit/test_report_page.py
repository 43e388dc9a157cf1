"""report.html as a deployer reads it: rendered by a real headless browser, without scripts.

Debian's chromium prints the page to PDF and poppler's pdftotext reads back the text in the order
a reader sees it, so the test judges the rendering (what is visible, in which order), not the
markup. Where either tool is missing the browser test skips, saying so in one line.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.catalog import Requirement
from conformance.outcomes import FAIL, NOT_EVALUATED, PASS
from conformance.report import html_document, results_document
from conformance.results import CheckResult, RequirementVerdict

CATALOG = {
    "CORE-A-001": Requirement("CORE-A-001", "MUST", "core", "GET `/v1/a` answers **200**.", "https://example.org/a"),
    "CORE-B-001": Requirement("CORE-B-001", "MUST", "core", "GET `/v1/b` answers <b>200</b>.", "https://example.org/b"),
    "AUTH-C-001": Requirement("AUTH-C-001", "MUST", "auth-jwt", "A token is `required`.", "RFC 6750 §3"),
}
NODE = "conformance/checks/test_core.py::test_b"


def page() -> str:
    verdicts = [
        RequirementVerdict(CATALOG["CORE-A-001"], PASS, [CheckResult("t::a", ["CORE-A-001"])]),
        RequirementVerdict(
            CATALOG["CORE-B-001"],
            FAIL,
            [CheckResult(NODE, ["CORE-B-001"], FAIL, "expected 200, got 500", ["curl -sS -i -X GET http://x/v1/b"])],
        ),
        RequirementVerdict(
            CATALOG["AUTH-C-001"],
            NOT_EVALUATED,
            [CheckResult("t::c", ["AUTH-C-001"], NOT_EVALUATED, "needs a launcher to start prepared configs")],
        ),
    ]
    meta = {"target": {"url": "http://x"}, "rerun_options": '--stack-url="$LLAMA_STACK_URL"'}
    return html_document(results_document(meta, verdicts, CATALOG))


def test_the_page_has_no_script_and_renders_markdown_safely() -> None:
    html = page()
    assert "<script" not in html.lower()
    assert "<code>/v1/a</code>" in html and "<strong>200</strong>" in html
    assert "&lt;b&gt;200&lt;/b&gt;" in html  # raw HTML in a requirement text stays text
    assert "<a href='https://example.org/b'>" in html


def test_failures_come_first_with_their_rerun_command() -> None:
    html = page()
    assert html.index("CORE-B-001 · MUST") < html.index("All requirements")
    assert f"pytest --stack-url=&quot;$LLAMA_STACK_URL&quot; &#x27;{NODE}&#x27;" in html


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no headless Chromium here (Debian: apt-get install chromium)")


def test_the_page_reads_right_in_a_headless_browser(tmp_path: Path) -> None:
    browser = _browser()
    if shutil.which("pdftotext") is None:
        pytest.skip("no pdftotext here (Debian: apt-get install poppler-utils)")
    source, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    source.write_text(page(), encoding="utf-8")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            # nothing but the local file: no name resolution, no background traffic
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    seen = " ".join(text.split())
    assert (
        seen.index("Failures")
        < seen.index("CORE-B-001 · MUST · contract · fail")
        < seen.index("Not evaluated or skipped")
    )
    assert seen.index("Not evaluated or skipped") < seen.index("AUTH-C-001") < seen.index("All requirements")
    assert "rerun this check: pytest" in seen and "expected 200, got 500" in seen
    assert "GET /v1/a answers 200." in seen and "`" not in seen  # Markdown rendered, not shown
