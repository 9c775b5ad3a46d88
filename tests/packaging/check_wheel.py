"""Checks the distributions that .ci/run (and the release workflow) built: run with the path of
the output directory of `maturin build --sdist`. Not a pytest file.

    python tests/packaging/check_wheel.py DIST_DIR

The wheel must be one for every CPython >= 3.9 (cp39-abi3), carry a manylinux tag that auditwheel
agrees with, and ship a stripped extension. Exit status 1 with what is wrong otherwise.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import NoReturn


def fail(message: str) -> NoReturn:
    raise SystemExit(f"check_wheel: {message}")


def one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    if len(found) != 1:
        fail(f"expected one {pattern} in {dist}, found {[p.name for p in found]}")
    return found[0]


def check_tags(wheel: Path) -> set[str]:
    # name-version-python-abi-platform.whl; the platform part may hold several tags joined by dots.
    _, _, python, abi, platforms = wheel.name[: -len(".whl")].split("-")
    if (python, abi) != ("cp39", "abi3"):
        fail(f"{wheel.name} is tagged {python}-{abi}, not cp39-abi3: is pyo3's abi3-py39 feature on in Cargo.toml?")
    tags = set(platforms.split("."))
    if sys.platform.startswith("linux") and not any(t.startswith("manylinux") for t in tags):
        fail(f"{wheel.name} has no manylinux tag ({platforms}): build with --zig --compatibility manylinux2014")
    shown = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(wheel)], capture_output=True, text=True)
    match = re.search(r'consistent with the following platform tag:\s*"([^"]+)"', " ".join(shown.stdout.split()))
    if shown.returncode != 0 or match is None:
        fail(f"auditwheel show {wheel.name} failed:\n{shown.stdout}{shown.stderr}")
    if match.group(1) not in tags:
        fail(f"auditwheel says {match.group(1)}, the wheel claims {sorted(tags)}")
    return tags


def check_extension(wheel: Path) -> int:
    from elftools.elf.elffile import ELFFile  # auditwheel's dependency

    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if re.fullmatch(r"hector_plugins/_core\..*so", n)]
        if names != ["hector_plugins/_core.abi3.so"]:
            fail(f"expected hector_plugins/_core.abi3.so in {wheel.name}, found {names}")
        data = archive.read(names[0])
    if ELFFile(io.BytesIO(data)).get_section_by_name(".symtab") is not None:
        fail(f"{names[0]} in {wheel.name} is not stripped: set strip = true in [tool.maturin]")
    return len(data)


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    dist = Path(sys.argv[1])
    wheel = one(dist, "*.whl")
    sdist = one(dist, "*.tar.gz")
    tags = check_tags(wheel)
    size = check_extension(wheel)
    print(
        f"check_wheel: {wheel.name} ({wheel.stat().st_size / 1e6:.2f} MB; stripped extension {size / 1e6:.2f} MB; "
        f"tags cp39-abi3 {', '.join(sorted(tags))}), {sdist.name} ({sdist.stat().st_size / 1e6:.2f} MB)"
    )


if __name__ == "__main__":
    main()
