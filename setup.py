"""Only what pyproject.toml cannot say: a wheel carries the repository's ``fixtures/`` (scenarios,
their configs, the releases and baselines) as ``conformance/fixtures``, so a suite installed with
``pip install`` can launch scenarios too. An editable install reads ``fixtures/`` in place."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class BuildWithFixtures(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode and FIXTURES.is_dir():
            target = Path(self.build_lib) / "conformance" / "fixtures"
            shutil.rmtree(target, ignore_errors=True)  # a reused build/ must not keep fixtures since removed
            shutil.copytree(FIXTURES, target)


setup(cmdclass={"build_py": BuildWithFixtures})
