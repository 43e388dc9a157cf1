"""The OpenAI-compatible Files API's providers (``inline::localfs``)."""
