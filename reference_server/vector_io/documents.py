"""The text of an uploaded file, by the type its name gives it.

Upstream reads a file it attaches the same way (``mimetypes.guess_type`` of the filename: text
decoded, PDF parsed with pypdf; openai_vector_store_mixin.py:538 and
providers/utils/memory/vector_store.py:82 at v0.2.12). Two differences, both on purpose: upstream
guesses a text file's encoding (chardet, which 0.2.12 forgot to declare, ogx-ai/ogx#3495), while
this server reads UTF-8, and UTF-16 with a byte-order mark, and refuses other bytes by name
instead of indexing a wrong guess; and a type it cannot read (an image, an archive) is refused
by name, where upstream indexes nothing and reports "No chunks were generated". Structured text
(JSON, XML, YAML, no extension at all) is text here, as a client that uploads it means it.
"""

# Requirements (conformance/catalog.yaml): VS-002, VS-V1-002

from __future__ import annotations

import codecs
import io
import logging
import mimetypes

from reference_server.errors import InvalidRequest

TEXTUAL = frozenset(
    {"application/json", "application/xml", "application/x-yaml", "application/yaml", "application/javascript"}
)
# pypdf logs what it repairs with quotes of the document itself: a user's text does not belong in
# the server's log, and a broken file is already answered by name.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def document_text(file_id: str, filename: str, data: bytes) -> str:
    """The text to chunk; `InvalidRequest` naming the file when there is none to read."""
    kind, _ = mimetypes.guess_type(filename, strict=False)
    label = f"{file_id!r} ({filename})"
    if kind == "application/pdf":
        return _pdf_text(label, data)
    if kind is None or kind.startswith("text/") or kind in TEXTUAL or kind.endswith(("+json", "+xml")):
        return _decoded(label, data)
    raise InvalidRequest(f"file {label} is {kind}: this server indexes text and PDF files only")


def _decoded(label: str, data: bytes) -> str:
    encoding = next((name for bom, name in BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"file {label} is not {encoding.upper()} text (byte {exc.start} is {data[exc.start]:#04x}); "
            "this server reads UTF-8, or UTF-16 with a byte-order mark"
        ) from None


def _pdf_text(label: str, data: bytes) -> str:
    from pypdf import PdfReader  # imported when a PDF is attached: it costs start-up time otherwise
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except PyPdfError as exc:
        raise InvalidRequest(f"file {label} is not a PDF this server can read: {exc}") from None
    except Exception as exc:  # a parser of untrusted bytes: any way it breaks means the same
        raise InvalidRequest(f"file {label} is not a PDF this server can read ({type(exc).__name__})") from None
