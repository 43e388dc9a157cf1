"""``llama-stack-conformance [pytest options]``: the installed checks, from any folder.

A thin front for ``pytest --pyargs conformance.checks``; every option of the plugin applies.
"""

from __future__ import annotations

import sys

import pytest


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return int(pytest.main(["--pyargs", "conformance.checks", "-p", "no:cacheprovider", *args]))


if __name__ == "__main__":
    sys.exit(main())
