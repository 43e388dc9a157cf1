"""The marker that ties a check to the catalog requirements it verifies: ``@requirement("ID")``."""

from __future__ import annotations

import pytest

requirement = pytest.mark.requirement

__all__ = ["requirement"]
