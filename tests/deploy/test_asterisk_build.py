"""Asterisk 22 built from source for the image: docker/asterisk/build-asterisk.sh, as the Dockerfile runs it.

Fast (always): the Dockerfile installs the packages of the lists and runs the script; the script keeps the steps of
../shared/real-asterisk/build.sh, which was checked against a real Asterisk 22 on Debian 12.
Slow (opt-in, about 15 minutes on 2 cores, not in CI): CALLCENTER_ASTERISK_BUILD=1 runs the same script outside
Docker on this Debian machine, as root, and checks what it installed. It needs Asterisk's source (ASTERISK_SRC, a
source tree, or ASTERISK_GIT, a git copy to clone the tag from) and, for PJSIP, the internet or EXTERNALS_CACHE_DIR
with pjproject's tarball; ASTERISK_PJSIP=no builds without PJSIP.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from asterisk_files import ETC, REPO
from test_docker import instructions

DOCKER = REPO / "docker" / "asterisk"
SCRIPT = DOCKER / "build-asterisk.sh"
BUILD_SH = REPO.parent / "shared" / "real-asterisk" / "build.sh"


def packages(name: str) -> list[str]:
    lines = (DOCKER / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def stages() -> list[list[tuple[str, list[str]]]]:
    """The Dockerfile's instructions, one list per stage."""
    found: list[list[tuple[str, list[str]]]] = []
    for instruction in instructions(DOCKER / "Dockerfile"):
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def loop_items(text: str, variable: str) -> list[str]:
    """The words of `for <variable> in ...; do` in a shell script (continuation lines joined)."""
    match = re.search(rf"for {variable} in (.*?); do", text.replace("\\\n", " "), re.S)
    assert match, variable
    return match.group(1).split()


def test_the_image_builds_asterisk_with_the_script_and_the_package_lists() -> None:
    """Build stage: Debian 12, the build packages' list, the release tag's source, the script into a staging
    tree; runtime stage: Debian 12, the runtime packages' list, exactly what the script installed."""
    build, runtime = stages()
    assert build[0] == ("FROM", ["debian:bookworm-slim", "AS", "build"])
    assert runtime[0] == ("FROM", ["debian:bookworm-slim"])
    build_runs = [" ".join(args) for name, args in build if name == "RUN"]
    assert any("/tmp/build-packages.txt" in run and "apt-get install" in run for run in build_runs)
    assert any("git clone" in run and "--branch $ASTERISK_VERSION" in run for run in build_runs)
    assert build_runs[-1] == "build-asterisk /usr/src/asterisk /staging"
    copies = [args for name, args in build if name == "COPY"]
    assert ["docker/asterisk/build-asterisk.sh", "/usr/local/bin/build-asterisk"] in copies
    assert ["docker/asterisk/build-packages.txt", "/tmp/build-packages.txt"] in copies
    runtime_runs = " ".join(" ".join(args) for name, args in runtime if name == "RUN")
    assert "/tmp/runtime-packages.txt" in runtime_runs and "apt-get install" in runtime_runs
    assert ("COPY", ["--from=build", "/staging/", "/"]) in runtime
    (version,) = [args[0] for name, args in build if name == "ARG" and args[0].startswith("ASTERISK_VERSION=")]
    assert version.split("=")[1].startswith("22.")


def test_the_script_keeps_the_steps_of_the_checked_build() -> None:
    """The same configure choice for jansson, the same menuselect categories and modules switched off, the same
    Debian packages; channels are switched back on one by one, as build.sh does (the image's: PJSIP, DAHDI)."""
    if not BUILD_SH.exists():
        pytest.skip(f"{BUILD_SH} is not here")
    reference, ours = BUILD_SH.read_text(), SCRIPT.read_text()
    assert "--with-jansson-bundled=no" in ours
    assert "--disable-category MENUSELECT_CHANNELS" in reference  # then the channels it wants, one by one
    assert loop_items(ours, "category") == [*loop_items(reference, "c"), "MENUSELECT_CHANNELS"]
    assert loop_items(ours, "module") == loop_items(reference, "m")
    installed = set(shlex.split(reference.split("dpkg -s", 1)[1].split(">/dev/null", 1)[0].replace("\\\n", " ")))
    assert installed <= set(packages("build-packages.txt")) | set(packages("runtime-packages.txt"))


def test_the_script_builds_every_channel_modules_conf_needs() -> None:
    """modules.conf requires chan_pjsip and loads chan_dahdi and chan_bridge_media: the script enables them."""
    enabled = set(loop_items(SCRIPT.read_text(), "channel"))
    loaded = set(re.findall(r"^(?:require|load) => (chan_\w+)\.so", (ETC / "modules.conf").read_text(), re.M))
    assert loaded <= enabled


@pytest.mark.skipif(os.environ.get("CALLCENTER_ASTERISK_BUILD") != "1", reason="opt-in: CALLCENTER_ASTERISK_BUILD=1")
@pytest.mark.timeout(3600)
def test_asterisk_builds_outside_docker_with_the_images_steps(tmp_path: Path) -> None:
    """The Dockerfile's steps on this machine: install the build packages, take the tag's source, run the script
    into a staging tree; Asterisk 22 runs from it and every module modules.conf names was built."""
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages("build-packages.txt")],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    source = os.environ.get("ASTERISK_SRC")
    if not source:
        (version,) = [a[0].split("=")[1] for n, a in stages()[0] if n == "ARG" and a[0].startswith("ASTERISK_VERSION")]
        mirror = os.environ.get("ASTERISK_GIT")
        if not mirror:
            pytest.fail("set ASTERISK_SRC (a source tree) or ASTERISK_GIT (a git copy of asterisk/asterisk)")
        source = str(tmp_path / "asterisk")
        subprocess.run(["git", "clone", "-q", "--branch", version, mirror, source], check=True)
    staging = tmp_path / "staging"
    subprocess.run([str(SCRIPT), source, str(staging)], check=True)
    binary, modules = staging / "usr" / "sbin" / "asterisk", staging / "usr" / "lib" / "asterisk" / "modules"
    version_line = subprocess.run(
        [str(binary), "-V"],
        env={**os.environ, "LD_LIBRARY_PATH": str(staging / "usr" / "lib")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version_line.startswith("Asterisk 22."), version_line
    wanted = re.findall(r"^(?:require|load) => (\w+\.so)", (ETC / "modules.conf").read_text(), re.M)
    if os.environ.get("ASTERISK_PJSIP") == "no":
        wanted = [m for m in wanted if "pj" not in m]
    assert [m for m in wanted if not (modules / m).exists()] == []
