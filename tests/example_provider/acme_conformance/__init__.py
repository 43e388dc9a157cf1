"""ACME's extra checks for the Llama Stack conformance suite.

The suite finds this module through the ``llama_stack_conformance.checks`` entry point, reads
``catalog.yaml`` beside it (requirements of profile ``acme-provider`` only) and collects the
``test_*.py`` files here with its own checks.
"""

PROFILE = "acme-provider"
DESCRIPTION = "What the ACME provider promises beyond the suite: aimed at it with --provider-id."
