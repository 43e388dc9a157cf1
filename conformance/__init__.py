"""Conformance suite for Llama Stack deployments."""
