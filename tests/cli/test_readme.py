"""The README as a newcomer follows it: the two set-up commands first, and quick-start commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from callcenter_ari.cli import build_parser

REPO = Path(__file__).parents[2]
README = (REPO / "README.md").read_text()


def blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def quick_start() -> list[str]:
    """The command lines of the quick-start sections, continuation lines joined, comments dropped."""
    sections = [part for part in README.split("\n## ") if part.startswith("Quick start")]
    assert len(sections) == 2  # `run` against the simulator, and the Docker deployment
    lines = []
    for block in (b for section in sections for b in blocks(section)):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def test_the_readme_starts_with_the_two_set_up_commands() -> None:
    first = blocks(README)[0].splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["./scripts/demo", "./scripts/test"]
    assert README.index("```sh") < README.index("\n## ")


def test_every_callcenter_ari_command_of_the_quick_start_parses() -> None:
    commands = [line.split("callcenter-ari", 1)[1] for line in quick_start() if "bin/callcenter-ari " in line]
    assert {shlex.split(c)[0] for c in commands} == {"sim", "check-config", "run"}
    for command in commands:
        build_parser().parse_args(shlex.split(command))  # exits on an unknown option


def test_the_quick_start_uses_only_variables_and_files_that_ship() -> None:
    env_example = (REPO / ".env.example").read_text()
    shipped = set(re.findall(r"^([A-Z_]+)=", env_example, re.M))
    used = {name for line in quick_start() for name in re.findall(r"\$([A-Z_]+)", line)}
    assert used and used <= shipped
    for path in ("examples/callcenter.toml", ".env.example", "scripts/demo"):
        assert path in README and (REPO / path).exists()
