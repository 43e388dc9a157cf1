"""The suite's version, in a module of its own so that the plugin need not import the package."""

__version__ = "0.1.0"
