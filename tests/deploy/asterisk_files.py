"""Helpers for the deployment tests: the Asterisk config tree as the container sees it, and a small reader.

The reader implements the part of Asterisk's config syntax the shipped files use: `[name]`, `[name](!)`,
`[name](template,...)` with inheritance, `key=value` and `key => value`, `;` comments and `#include`.
asterisklint (0.4.3) cannot parse `[name](template)` with a template name longer than one character (its
section regex lacks a `+`), so the lint test hands it a copy with the template lists stripped and this reader
checks the inheritance itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ETC = REPO / "asterisk" / "etc"
GENERATED = REPO / "hardware" / "dahdi" / "generated"
ENTRYPOINT = REPO / "docker" / "asterisk" / "entrypoint.sh"
# Files genconf writes that the Asterisk image places next to asterisk/etc (system.conf goes to the host).
GENERATED_FOR_ASTERISK = ("chan_dahdi_generated.conf", "extensions_dahdi_generated.conf")

SECRETS = {
    "ARI_PASSWORD": "test-ari-password-0123",
    "AGENT_PASSWORDS": "agent1001:phone-secret-1001,agent1002:phone-secret-1002,agent1003:phone-secret-1003",
    "SIP_TRUNK_USERNAME": "account42",
    "SIP_TRUNK_PASSWORD": "trunk-secret-4242",
}

_SECTION = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?\s*$")
_OPTION = re.compile(r"^([A-Za-z0-9_.-]+)\s*=>?\s*(.*)$")


def run_entrypoint(etc: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "ASTERISK_ETC": str(etc), **env}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *(command or ("true",))],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def assemble_etc(target: Path) -> Path:
    """/etc/asterisk as the image has it at run time: shipped files, generated DAHDI includes, secrets."""
    target.mkdir(parents=True, exist_ok=True)
    for conf in ETC.glob("*.conf"):
        shutil.copy(conf, target)
    for name in GENERATED_FOR_ASTERISK:
        shutil.copy(GENERATED / name, target)
    result = run_entrypoint(target, SECRETS)
    assert result.returncode == 0, result.stderr
    return target


@dataclass
class Section:
    name: str
    is_template: bool
    options: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        values = self.all(key)
        return values[-1] if values else None

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.options if k == key]


def read_config(path: Path) -> list[Section]:
    """Sections in file order, templates applied, #include followed relative to the file's directory."""
    sections: list[Section] = []
    templates: dict[str, Section] = {}
    for line in _lines(path):
        if match := _SECTION.match(line):
            name, inherits = match.group(1), match.group(2) or ""
            parents = [t.strip() for t in inherits.split(",") if t.strip()]
            section = Section(name, "!" in parents)
            for parent in (p for p in parents if p != "!"):
                if parent not in templates:
                    raise AssertionError(f"{path.name}: [{name}] inherits from undefined template {parent!r}")
                section.options += templates[parent].options
            sections.append(section)
            if section.is_template:
                templates[name] = section
        elif match := _OPTION.match(line):
            if not sections:
                raise AssertionError(f"{path.name}: option outside a section: {line!r}")
            sections[-1].options.append((match.group(1), match.group(2).strip()))
        else:
            raise AssertionError(f"{path.name}: unreadable line {line!r}")
    return sections


def _lines(path: Path) -> list[str]:
    lines: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        text = raw.split(";", 1)[0].strip()
        if text.startswith("#include"):
            lines += _lines(path.parent / text.removeprefix("#include").strip())
        elif text:
            lines.append(text)
    return lines


def strip_template_lists(path: Path) -> None:
    """Rewrite `[name](...)` to `[name]` in place, for asterisklint (see module docstring)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^\[([^\]]+)\]\([^)]*\)", r"[\1]", text, flags=re.MULTILINE), encoding="utf-8")
