"""The text the reference server reads from an attached file, by the type its name gives it."""

from __future__ import annotations

import codecs
import random

import pytest

from reference_server.errors import InvalidRequest
from reference_server.vector_io.documents import document_text
from tests.pdf_bytes import pdf_with_text


@pytest.mark.parametrize(
    ("filename", "data", "text"),
    [
        ("notes.txt", "Café au lait".encode(), "Café au lait"),
        ("notes.md", codecs.BOM_UTF8 + b"# Title", "# Title"),
        ("notes.csv", "a,b\n1,2".encode("utf-16"), "a,b\n1,2"),
        ("data.json", b'{"k": 1}', '{"k": 1}'),
        ("README", b"no extension", "no extension"),
    ],
)
def test_text_files_are_read_as_text(filename: str, data: bytes, text: str) -> None:
    assert document_text("file-1", filename, data) == text


def test_a_pdf_is_read_for_its_text() -> None:
    line = "The lighthouse log (night)"
    assert line in document_text("file-1", "log.pdf", pdf_with_text(line))


@pytest.mark.parametrize(
    ("filename", "data", "named"),
    [
        ("notes.txt", "café".encode("latin-1"), "byte 3 is 0xe9"),
        ("photo.png", b"\x89PNG\r\n", "image/png"),
        ("broken.pdf", b"%PDF-1.4 not really", "not a PDF this server can read"),
    ],
)
def test_what_cannot_be_read_is_refused_by_name(filename: str, data: bytes, named: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        document_text("file-1", filename, data)
    assert named in refused.value.message and "'file-1'" in refused.value.message and filename in refused.value.message


def test_a_damaged_pdf_is_refused_by_name_however_it_breaks() -> None:
    """Truncated, overwritten and padded copies of a good PDF: each reads as text or is refused by
    name, never an exception of the parser's own (one of these raised AttributeError in pypdf)."""
    good, rng = pdf_with_text("hello world"), random.Random(1)
    for case in range(400):
        data = bytearray(good)
        if case % 3 == 0:
            data = data[: rng.randrange(len(data))]
        elif case % 3 == 1:
            for _ in range(5):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            at = rng.randrange(len(data))
            data[at:at] = bytes(rng.randrange(256) for _ in range(20))
        try:
            document_text("file-1", "damaged.pdf", bytes(data))
        except InvalidRequest as refused:
            assert "'file-1' (damaged.pdf)" in refused.message
