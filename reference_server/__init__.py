"""A minimal, fast reference server for the Llama Stack API of mid-2025 (the seed's era)."""

__version__ = "0.1.0"
IMPLEMENTATION = "llama-stack-reference"
