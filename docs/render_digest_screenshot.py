"""Rebuild docs/digest-screenshot.png from the sample digest (its HTML is the golden file
tests/golden/digest/sample.html, so it is not kept twice).

    .venv/bin/python docs/render_digest_screenshot.py [--height 1400] [--chromium PATH]

Needs headless Chromium (Debian: apt-get install chromium). The window is 390 px wide, the
width of a common phone, so the picture shows what a subscriber sees in a phone mail client.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.digest.render import render_digest  # noqa: E402
from alerts.digest.sample import sample_digest  # noqa: E402

DOCS = ROOT / "docs"


def find_chromium(explicit: str | None) -> str:
    for candidate in (explicit, "chromium", "chromium-browser", "google-chrome"):
        if candidate and (path := shutil.which(candidate)):
            return path
    raise SystemExit("headless Chromium not found: apt-get install chromium, or pass --chromium")


def screenshot(chromium: str, page: Path, out: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cw-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={out}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--height", type=int, default=1400)
    parser.add_argument("--chromium", default=None)
    args = parser.parse_args()

    rendered = render_digest(sample_digest())
    out = DOCS / "digest-screenshot.png"
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "digest-sample.html"
        page.write_text(rendered.html, encoding="utf-8")
        screenshot(find_chromium(args.chromium), page, out, args.width, args.height)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
