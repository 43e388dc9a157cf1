"""YAML for configs, read with bounds: a config file is input, and input can be hostile.

PyYAML's safe loader still recurses once per nesting level (10,000 levels ended in a
RecursionError traceback), follows aliases that refer to themselves (a structure that recurses
for ever when walked), expands alias trees exponentially when walked (a "billion laughs" file),
and turns a 5,000-digit integer into a ValueError from Python's int parser. Each of these is
refused here with a `BoundedYAMLError` that says which bound was hit and where.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_DEPTH = 64
# Nodes the document would have with every alias expanded: generous for any real config.
MAX_EXPANDED_NODES = 200_000
MAX_BYTES = 4 * 1024 * 1024


class BoundedYAMLError(ValueError):
    pass


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise BoundedYAMLError(f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_graph(root: Node) -> None:
    """Refuse cycles (an alias inside its own anchor) and documents too large once expanded."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            on_path.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                raise BoundedYAMLError(f"more than {MAX_EXPANDED_NODES} values once its aliases are expanded")
            continue
        if id(node) in sizes:
            continue
        if id(node) in on_path:
            raise BoundedYAMLError(f"line {node.start_mark.line + 1}: an alias refers to a value that contains it")
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def load(text: str) -> Any:
    """Parse one YAML document as `yaml.safe_load` would, within the bounds above."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node)
        try:
            return loader.construct_document(node)
        except ValueError as exc:  # Python's int parser on a 5,000-digit literal
            raise BoundedYAMLError(f"line {node.start_mark.line + 1}: a value cannot be read: {exc}") from None
    finally:
        loader.dispose()
