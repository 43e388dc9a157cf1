"""Conformance suite for Llama Stack deployments."""

__version__ = "0.1.0"
