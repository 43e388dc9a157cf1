"""Launchers turn a scenario into a running target, and stop it afterwards."""

from conformance.launchers.base import Launcher, Running
from conformance.launchers.choose import launcher_from_option
from conformance.launchers.process import Exited, LaunchError

__all__ = ["Exited", "LaunchError", "Launcher", "Running", "launcher_from_option"]
