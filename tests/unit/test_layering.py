"""Which part of the code may import which: the allowed layering, written down here and enforced.

The reference server is layered: a folder (or top-level module) imports only from layers below
its own, so a feature never reaches up into the API that serves it, and the config loader reads
the features' config types without the features reading the loader. The suite and the server are
two products: neither imports the other (a user certifying a real release needs none of the
server); what both need, serving on loopback with a readiness line, is `loopback_serving`, which
imports neither. Inside the suite no two modules import each other. Imports inside functions
count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Bottom to top; each entry a folder or top-level module of reference_server/.
REFERENCE_LAYERS = [
    {"errors", "field_types", "asgi_errors", "content", "strict_json", "http_protocol", "http_clients"},
    {"store"},
    {"auth", "providers"},
    {"resources"},
    {"safety", "vector_io", "files"},
    {"config"},  # reads every feature's config types into one validated StackConfig
    {"quota"},
    {"stack"},
    {"api"},
    {"cli", "__init__"},
    {"__main__"},
]
PRODUCTS = {"reference_server", "conformance", "loopback_serving"}
# What each product may import of the others.
ALLOWED_PRODUCTS = {
    "reference_server": {"loopback_serving"},
    "conformance": {"loopback_serving"},
    "loopback_serving": set(),
}


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def modules(package: str) -> Iterator[tuple[str, Path]]:
    root = REPO / package
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def part_of(module: str) -> str:
    """The layer member a reference_server module belongs to: its folder, or itself at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_of_the_reference_server_has_a_layer() -> None:
    layered = set().union(*REFERENCE_LAYERS)
    parts = {part_of(name) for name, _ in modules("reference_server")}
    assert parts <= layered, f"give these a layer in REFERENCE_LAYERS: {sorted(parts - layered)}"


def test_the_reference_server_imports_only_downwards() -> None:
    level = {part: index for index, layer in enumerate(REFERENCE_LAYERS) for part in layer}
    upward = []
    for name, path in modules("reference_server"):
        source = part_of(name)
        for target in (m for m in imports(path) if m.startswith("reference_server.")):
            if part_of(target) != source and level[part_of(target)] >= level[source]:
                upward.append(f"{path.relative_to(REPO)} imports {target}")
    assert not upward, "imports that do not look down:\n" + "\n".join(upward)


def test_the_products_import_only_what_they_share() -> None:
    crossing = [
        f"{path.relative_to(REPO)} imports {target}"
        for product in PRODUCTS
        for _, path in modules(product)
        for target in imports(path)
        if (other := target.split(".")[0]) in PRODUCTS - {product} and other not in ALLOWED_PRODUCTS[product]
    ]
    assert not crossing, "\n".join(crossing)


def test_no_two_modules_of_the_suite_import_each_other() -> None:
    graph = {name: set(imports(path)) for name, path in modules("conformance")}
    mutual = sorted(
        f"{a} <-> {b}" for a, targets in graph.items() for b in targets if a < b and b in graph and a in graph[b]
    )
    assert not mutual, mutual


def test_the_public_face_is_whole_and_importable() -> None:
    import conformance

    public = set(conformance.__all__) - {"__version__"}
    assert public == set(conformance._PUBLIC), "conformance.__all__ and its table of public names differ"
    missing = [name for name in sorted(public) if getattr(conformance, name, None) is None]
    assert not missing, missing


def test_nothing_outside_the_suite_imports_its_internals_for_checks() -> None:
    """A third-party check (the example provider) is written against ``conformance`` alone."""
    example = REPO / "tests" / "example_provider" / "acme_conformance"
    internal = sorted(
        f"{path.name} imports {target}"
        for path in example.glob("*.py")
        for target in imports(path)
        if target.startswith("conformance.")
    )
    assert not internal, internal
