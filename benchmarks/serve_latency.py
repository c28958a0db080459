"""How long from saving a guide to the open page showing the change, under ``guidedeck serve``.

Runs the server on a folder of guides, opens the deck page of one guide in headless Chromium
(Debian's, as the tests use), then edits a table row of that guide ``runs`` times, each time
timing until the page shows the new text. Needs playwright and chromium (the test extras).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def available() -> bool:
    """Whether playwright and Chromium are here to measure with."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def measure(folder: Path, guide: Path, out: Path, runs: int) -> list[float]:
    """Seconds from each save of ``guide`` to its deck page showing the edit."""
    from playwright.sync_api import sync_playwright
    from run import edit_one

    proc = subprocess.Popen(
        [sys.executable, "-m", "guidedeck", "serve", str(folder), "--port", "0",
         "--out", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        url = ""
        for line in proc.stderr:
            found = re.search(r"serving (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        if not url:
            raise SystemExit("guidedeck serve did not start")
        times = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(url)
            title = guide.read_text(encoding="utf-8").split("\n", 1)[0].lstrip("# ").strip()
            page.get_by_role("link", name=title).click()
            page.wait_for_load_state("load")
            for n in range(1, runs + 1):
                time.sleep(0.3)  # the previous reload settles
                started = time.perf_counter()
                edit_one(guide, 10_000 + n)
                page.wait_for_function(
                    f"() => document.body && document.body.innerText.includes('(v{10_000 + n})')",
                    timeout=30_000,
                )
                times.append(time.perf_counter() - started)
            browser.close()
        return times
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr is not None:
            proc.stderr.close()
