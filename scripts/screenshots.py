"""Screenshots of the wallboard and the agent desktop under the demo's load, for docs/ (PNG).

Runs `callcenter-ari demo` (private Redis, the simulator at 10x), waits for the traffic to build, then drives
Debian's headless Chromium with Playwright: signs in with the demo's tokens and saves docs/wallboard.png and
docs/agent-desktop.png. Usage: .venv/bin/python scripts/screenshots.py [--wait SECONDS] [--lang en|zh]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from playwright.async_api import async_playwright

DOCS = Path(__file__).parents[1] / "docs"
ADDRESS = re.compile(rb"wallboard: (http://127\.0\.0\.1:\d+)/pages/wallboard\.html")


def start_demo() -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEMO_SUPERVISOR_TOKEN", "DEMO_AGENT_TOKEN")}
    demo = subprocess.Popen(
        [sys.executable, "-m", "callcenter_ari", "demo", "--speed", "10", "--rate", "14", "--seed", "3"],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert demo.stdout is not None
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen += demo.stdout.read1(4096)
        found = ADDRESS.search(seen)
        if found:
            return demo, found.group(1).decode()
    demo.kill()
    raise SystemExit(f"the demo printed no wallboard address: {seen[-500:]!r}")


async def shoot(base: str, wait: float, lang: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for name, token, ready, width, height in (
            ("wallboard", "demo-supervisor-token", "[data-queue]", 1600, 1000),
            ("agent-desktop", "demo-agent-ann-token", "#me-state[data-state]", 1400, 1000),
        ):
            page = await browser.new_page(base_url=base, viewport={"width": width, "height": height})
            await page.goto("/pages/index.html")
            await page.evaluate(f"localStorage.setItem('callcenter.lang', '{lang}')")
            await page.fill("#token", token)
            await page.click("button[type=submit]")
            await page.wait_for_selector(ready)
            await asyncio.sleep(wait if name == "wallboard" else 2)
            suffix = "" if lang == "en" else f"-{lang}"
            await page.screenshot(path=str(DOCS / f"{name}{suffix}.png"), full_page=False)
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=20.0, help="seconds of traffic before the wallboard's picture")
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    args = parser.parse_args()
    demo, base = start_demo()
    try:
        asyncio.run(shoot(base, args.wait, args.lang))
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()


if __name__ == "__main__":
    main()
