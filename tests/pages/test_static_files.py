"""The pages' files themselves: both languages have every label the pages use, no inline script, and nothing that
turns data into markup or code."""

from __future__ import annotations

import re
from pathlib import Path

from callcenter_ari.pages import STATIC

KEY = re.compile(r'^\s*"?([a-z0-9_.]+)"?\s*:', re.MULTILINE)


def labels(language: str) -> set[str]:
    return set(KEY.findall((STATIC / "i18n" / f"{language}.js").read_text(encoding="utf-8")))


def files(pattern: str) -> list[Path]:
    return sorted(STATIC.rglob(pattern))


def test_english_and_chinese_have_the_same_labels() -> None:
    assert labels("en") == labels("zh")
    assert len(labels("en")) > 100


def test_every_label_the_pages_name_exists() -> None:
    named = set()
    for page in files("*.html"):
        named |= set(re.findall(r'data-i18n="([^"]+)"', page.read_text(encoding="utf-8")))
    for script in files("*.js"):
        text = script.read_text(encoding="utf-8")
        named |= set(re.findall(r'\bt\("([a-z0-9_.]+)"\)', text))
        named |= set(re.findall(r'"data-i18n": "([a-z0-9_.]+)"', text))
        named |= set(re.findall(r'frame\("([a-z0-9_.]+)"\)', text))
    assert named and named <= labels("en"), named - labels("en")


def test_no_inline_script_or_style_and_nothing_loaded_from_elsewhere() -> None:
    for page in files("*.html"):
        text = page.read_text(encoding="utf-8")
        assert all('src="js/' in tag for tag in re.findall(r"<script[^>]*>", text)), page.name
        assert "<style" not in text and " style=" not in text, page.name
        assert not re.search(r"<[^>]+\son[a-z]+=", text), page.name  # no inline event handler
        assert "http://" not in text and "https://" not in text, page.name


def test_scripts_never_make_markup_or_code_from_strings() -> None:
    for script in files("*.js"):
        text = script.read_text(encoding="utf-8")
        for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert risky not in text, (script.name, risky)
