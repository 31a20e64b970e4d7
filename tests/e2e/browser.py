"""How the end-to-end tests and the frontend benchmark start Debian's Chromium (Playwright
cannot download its own browsers here; without the networking flags Chromium keeps
trying to reach Google's servers)."""

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
