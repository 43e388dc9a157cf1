"""Renders verdicts: the terminal table, ``results.json`` and a self-contained ``report.html``."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.catalog import Requirement
from conformance.outcomes import FAIL, INCONCLUSIVE, NOT_EVALUATED, OUT_OF_WINDOW, PASS, SEVERITY, SKIP
from conformance.results import RequirementVerdict


def profile_claims(verdicts: list[RequirementVerdict], catalog: Mapping[str, Requirement]) -> dict[str, str]:
    """A profile is conformant only when every MUST in it passed (out-of-window ones aside).

    A run that selected only some of a profile's requirements makes no claim about the profile:
    "conformant" must never stand for "the few we looked at passed".
    """
    claims: dict[str, str] = {}
    for profile in dict.fromkeys(v.requirement.profile for v in verdicts):
        run = [v for v in verdicts if v.requirement.profile == profile]
        total = sum(1 for r in catalog.values() if r.profile == profile)
        if len(run) < total:
            claims[profile] = f"no claim ({len(run)} of its {total} requirements run)"
            continue
        members = [v for v in run if v.verdict != OUT_OF_WINDOW]
        musts = [v for v in members if v.requirement.level == "MUST"] or members
        if not members:
            claims[profile] = "out of window"
        elif all(v.verdict == NOT_EVALUATED for v in musts):
            claims[profile] = "not evaluated"
        elif all(v.verdict == PASS for v in musts):
            claims[profile] = "conformant"
        elif any(v.verdict == PASS for v in musts):
            claims[profile] = "partially conformant"
        else:
            claims[profile] = "not conformant"
    return claims


def counts(verdicts: list[RequirementVerdict]) -> dict[str, int]:
    tally = Counter(v.verdict for v in verdicts)
    return {verdict: tally.get(verdict, 0) for verdict in SEVERITY}


def terminal_lines(verdicts: list[RequirementVerdict], catalog: Mapping[str, Requirement]) -> list[str]:
    width = max([len("requirement"), *(len(v.requirement.id) for v in verdicts)])
    lines = [f"{'requirement'.ljust(width)}  level   verdict         checks  note"]
    for v in verdicts:
        note = v.reason if v.verdict in (FAIL, INCONCLUSIVE, NOT_EVALUATED, SKIP) else ""
        lines.append(
            f"{v.requirement.id.ljust(width)}  {v.requirement.level.ljust(6)}  {v.verdict.ljust(14)}  "
            f"{len(v.checks):>6}  {note[:110]}"
        )
    tally = counts(verdicts)
    lines.append("")
    lines.append("verdicts: " + ", ".join(f"{n} {verdict}" for verdict, n in tally.items() if n))
    for profile, claim in profile_claims(verdicts, catalog).items():
        lines.append(f"profile {profile}: {claim}")
    return lines


def results_document(
    meta: dict[str, Any], verdicts: list[RequirementVerdict], catalog: Mapping[str, Requirement]
) -> dict[str, Any]:
    return {
        **meta,
        "summary": counts(verdicts),
        "profiles": profile_claims(verdicts, catalog),
        "requirements": [
            {
                "id": v.requirement.id,
                "level": v.requirement.level,
                "profile": v.requirement.profile,
                "since": v.requirement.since,
                "until": v.requirement.until,
                "source": v.requirement.source,
                "text": v.requirement.text,
                "verdict": v.verdict,
                "reason": v.reason,
                "checks": [
                    {
                        "id": c.nodeid,
                        "outcome": c.outcome,
                        "message": c.message,
                        "curl": c.curl,
                        "duration_s": round(c.duration, 3),
                    }
                    for c in v.checks
                ],
            }
            for v in verdicts
        ],
    }


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;
vertical-align:top}th{background:#f4f4f6}.v{font-weight:600}.pass{color:#16794a}.fail{color:#b3261e}
.skip,.not-evaluated,.inconclusive{color:#8a6100}.out-of-window{color:#777}
pre{background:#f6f6f8;padding:.6em;overflow-x:auto;white-space:pre-wrap}code{font-size:12px}
"""


def html_document(doc: dict[str, Any]) -> str:
    esc = html.escape
    target = doc.get("target", {})
    rows = []
    details = []
    for req in doc["requirements"]:
        rows.append(
            f"<tr><td><a href='#{esc(req['id'])}'>{esc(req['id'])}</a></td><td>{esc(req['level'])}</td>"
            f"<td>{esc(req['profile'])}</td><td class='v {esc(req['verdict'])}'>{esc(req['verdict'])}</td>"
            f"<td>{esc(req['text'])}</td></tr>"
        )
        if req["verdict"] in (PASS, OUT_OF_WINDOW):
            continue
        checks = []
        for check in req["checks"]:
            curl = "".join(f"<pre><code>{esc(line)}</code></pre>" for line in check["curl"])
            checks.append(
                f"<li><code>{esc(check['id'])}</code>: <span class='{esc(check['outcome'])}'>"
                f"{esc(check['outcome'])}</span> {esc(check['message'])}{curl}</li>"
            )
        details.append(
            f"<h3 id='{esc(req['id'])}'>{esc(req['id'])} — {esc(req['verdict'])}</h3>"
            f"<p>{esc(req['text'])}<br><small>source: {esc(req['source'])}</small></p>"
            f"<ul>{''.join(checks)}</ul>"
        )
    summary = ", ".join(f"{n} {verdict}" for verdict, n in doc["summary"].items() if n)
    profiles = "".join(f"<li>{esc(p)}: {esc(c)}</li>" for p, c in doc["profiles"].items())
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Llama Stack conformance report</title>"
        f"<style>{_CSS}</style></head><body><h1>Llama Stack conformance report</h1>"
        f"<p>target: <code>{esc(str(target.get('url')))}</code> · generation: {esc(str(target.get('generation')))}"
        f" · launcher: {esc(str(target.get('launcher')))} · suite {esc(str(doc.get('suite_version')))}"
        f" · {esc(str(doc.get('finished')))}</p><p>{esc(summary)}</p><ul>{profiles}</ul>"
        "<table><tr><th>id</th><th>level</th><th>profile</th><th>verdict</th><th>requirement</th></tr>"
        f"{''.join(rows)}</table><h2>Findings</h2>{''.join(details) or '<p>None.</p>'}</body></html>"
    )


def write_reports(folder: Path, doc: dict[str, Any]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    results.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    page = folder / "report.html"
    page.write_text(html_document(doc), encoding="utf-8")
    return [results, page]
