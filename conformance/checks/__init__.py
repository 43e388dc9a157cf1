"""The conformance checks. Each is marked with the catalog requirement(s) it verifies."""
