"""The one Chromium the project drives through Playwright, and its flags: the
browser tests (conftest.py's `browser_type_launch_args`) and the README's
screenshots (demo.screenshots) launch it the same way. Debian's package, headless,
without a sandbox (the tests run as root in a container) and without the
background traffic a first run would start (the machine reaches no network)."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
