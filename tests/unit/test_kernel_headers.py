"""Finding kernel headers, merging Debian's split trees, and the no-headers message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.sources.kernel_headers import (
    HeadersMissing,
    HeadersUntrusted,
    locate_headers,
    merge_headers,
)


def make_split_tree(src: Path, version: str) -> tuple[Path, Path]:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    common = src / f"linux-headers-{version}-common"
    arch_dir = src / f"linux-headers-{version}-{arch}"
    (common / "include" / "linux").mkdir(parents=True)
    (common / "include" / "linux" / "types.h").write_text("common")
    (common / "arch" / "x86" / "include").mkdir(parents=True)
    (common / "Makefile").write_text("common makefile")
    (arch_dir / "include" / "generated").mkdir(parents=True)
    (arch_dir / "include" / "generated" / "autoconf.h").write_text("arch")
    (arch_dir / "Makefile").write_text("arch makefile")
    return common, arch_dir


def test_merge_overlays_arch_on_common(tmp_path: Path) -> None:
    common, arch_dir = make_split_tree(tmp_path / "src", "6.1.0-9")
    merged = merge_headers(common, arch_dir, cache_dir=tmp_path / "cache")
    assert (merged / "include" / "linux" / "types.h").read_text() == "common"
    assert (merged / "include" / "generated" / "autoconf.h").read_text() == "arch"
    assert (merged / "Makefile").read_text() == "arch makefile"
    # Cached: a second call reuses the tree.
    assert merge_headers(common, arch_dir, cache_dir=tmp_path / "cache") == merged


def test_locate_prefers_matching_build_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BCC_KERNEL_SOURCE", raising=False)
    build = tmp_path / "modules" / "6.9.9" / "build"
    (build / "include").mkdir(parents=True)
    make_split_tree(tmp_path / "src", "6.1.0-9")
    found = locate_headers("6.9.9", tmp_path / "modules", tmp_path / "src", tmp_path / "cache")
    assert found.path == build


def test_locate_merges_newest_split_tree(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BCC_KERNEL_SOURCE", raising=False)
    make_split_tree(tmp_path / "src", "6.1.0-9")
    make_split_tree(tmp_path / "src", "6.1.0-12")
    found = locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", tmp_path / "cache")
    assert "6.1.0-12" in found.path.name
    assert "not 6.18.0" in found.describe()


def test_no_headers_names_the_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BCC_KERNEL_SOURCE", raising=False)
    with pytest.raises(HeadersMissing, match=r"apt-get install linux-headers-"):
        locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", tmp_path / "cache")


def test_cache_made_under_umask_000_is_root_only(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BCC_KERNEL_SOURCE", raising=False)
    make_split_tree(tmp_path / "src", "6.1.0-9")
    old = os.umask(0)
    try:
        found = locate_headers(
            "6.18.0", tmp_path / "modules", tmp_path / "src", tmp_path / "c" / "d"
        )
    finally:
        os.umask(old)
    for directory in [tmp_path / "c", tmp_path / "c" / "d", found.path, found.path / "include"]:
        assert os.stat(directory).st_mode & 0o777 == 0o755, directory
    assert os.stat(found.path / ".syscalltop-complete").st_mode & 0o022 == 0


def test_a_cache_someone_else_can_write_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BCC_KERNEL_SOURCE", raising=False)
    make_split_tree(tmp_path / "src", "6.1.0-9")
    cache = tmp_path / "cache"
    found = locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", cache)
    generated = found.path / "include" / "generated"
    os.chmod(generated, 0o777)  # as umask 000 used to leave it: anyone could swap a header
    with pytest.raises(HeadersUntrusted) as refused:
        locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", cache)
    assert f"{generated} is writable by everyone (mode 0777)" in str(refused.value)
    assert "\n" not in str(refused.value)
    os.chmod(generated, 0o755)
    os.chown(found.path, 65534, 65534)  # a tree owned by another user
    with pytest.raises(HeadersUntrusted, match="owned by uid 65534"):
        locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", cache)


def test_a_source_tree_the_cache_links_into_is_checked_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BCC_KERNEL_SOURCE", raising=False)
    common, _arch = make_split_tree(tmp_path / "src", "6.1.0-9")
    (common / "scripts").mkdir()
    (common / "scripts" / "sub").mkdir()
    locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", tmp_path / "cache")
    os.chmod(common / "include" / "linux", 0o775)
    os.chown(common / "include" / "linux", 0, 1000)  # group-writable by a non-root group
    with pytest.raises(HeadersUntrusted, match="writable by group 1000"):
        locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", tmp_path / "cache")


def test_bcc_kernel_source_writable_by_others_is_refused(tmp_path: Path, monkeypatch) -> None:
    tree = tmp_path / "headers"
    (tree / "include").mkdir(parents=True)
    os.chmod(tree / "include", 0o777)
    monkeypatch.setenv("BCC_KERNEL_SOURCE", str(tree))
    with pytest.raises(HeadersUntrusted, match="BCC_KERNEL_SOURCE"):
        locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", tmp_path / "cache")
    os.chmod(tree / "include", 0o755)
    assert locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src").path == tree


def test_a_merged_cache_given_as_bcc_kernel_source_checks_the_trees_its_marker_names(
    tmp_path: Path, monkeypatch
) -> None:
    """The cache's file links are not stat()ed one by one (0.6 s at every start): the trees
    they point into are walked instead, as the cache's marker names them."""
    monkeypatch.delenv("BCC_KERNEL_SOURCE", raising=False)
    common, _arch = make_split_tree(tmp_path / "src", "6.1.0-9")
    found = locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src", tmp_path / "cache")
    monkeypatch.setenv("BCC_KERNEL_SOURCE", str(found.path))
    assert locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src").path == found.path
    os.chmod(common / "arch" / "x86" / "include", 0o777)
    with pytest.raises(HeadersUntrusted, match="writable by everyone"):
        locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src")
    os.chmod(common / "arch" / "x86" / "include", 0o755)
    marker = found.path / ".syscalltop-complete"
    os.chmod(marker, 0o666)  # a marker anyone could point elsewhere is refused
    with pytest.raises(HeadersUntrusted, match="syscalltop-complete is writable by everyone"):
        locate_headers("6.18.0", tmp_path / "modules", tmp_path / "src")
