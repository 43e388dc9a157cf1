"""Serve the reference server with one deliberate defect (see tests/defects/__init__.py).

python tests/defects/serve.py DEFECT CONFIG --port N
"""

from __future__ import annotations

import sys
from pathlib import Path

# Started as a script by the suite's command launcher, from any folder. The script's own folder
# (sys.path[0]) would make its siblings top-level modules named config, core, quota...: put the
# repository's root there instead, where the tests package is found.
sys.path[0] = str(Path(__file__).resolve().parents[2])

from loopback_serving import exit_now  # noqa: E402
from reference_server import cli  # noqa: E402
from tests.defects import DEFECTS  # noqa: E402


def main() -> int:
    if len(sys.argv) < 3 or sys.argv[1] not in DEFECTS:
        print(
            f"usage: serve.py DEFECT CONFIG [reference_server run options]; defects: {', '.join(sorted(DEFECTS))}",
            file=sys.stderr,
        )
        return 2
    DEFECTS[sys.argv[1]].apply()
    return cli.main(["run", *sys.argv[2:]])


if __name__ == "__main__":
    exit_now(main())
