"""Test support shared by every folder that drives a browser: Debian's Chromium (never a downloaded
build: this workplace has none) and the flags that keep it quiet on a machine with no network."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
# No sandbox (tests run as root), no GPU, and none of Chromium's own background connections, which
# this machine's closed network would refuse many at a time.
ARGS_CHROMIUM = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
