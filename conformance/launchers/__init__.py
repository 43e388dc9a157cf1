"""Launchers turn a scenario into a running target, and stop it afterwards.

`base` says what a launcher is, `reference`, `command` and `release` are the three kinds and
`choose` picks one; `process` runs and stops the children, `forking` and `zygote` start the
reference server and the fakes from a preloaded parent. Nothing is imported here: the fork
server runs as ``python -m conformance.launchers.zygote`` and must not load the others first.
"""
