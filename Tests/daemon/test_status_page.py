"""The status page in a real headless browser: the demo runs, Chromium loads the page, the
rendered DOM shows the running app as ready, and a screenshot is taken (written to
docs/status-page.png when SOCKEYE_UPDATE_SCREENSHOT=1)."""
import os
import shutil
import signal
import subprocess
import sys
import urllib.request

from daemon_support import Proc, binary, free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from headless_chromium import chromium_binary  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def test_status_page_in_headless_chromium(tmp_path, processes):
    port = free_port()
    daemon = Proc([binary("sockeyed"), "demo", "--seconds", "60", "--rate", "300", "--operations", f"127.0.0.1:{port}"])
    processes.append(daemon)
    assert daemon.wait_for(lambda: ready(port), 60), daemon.err[-20:]
    browser = chromium_binary()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
             f"--user-data-dir={tmp_path}/profile"]
    dom = subprocess.run([browser, *flags, "--dump-dom", f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                         timeout=90)
    assert "<table" in dom.stdout, dom.stderr[-2000:]
    assert ">demo<" in dom.stdout and "ready" in dom.stdout, dom.stdout[-3000:]
    assert "running" in dom.stdout, dom.stdout[-3000:]
    # The sinks, each with its state: the demo writes to a file sink that takes every event.
    assert "<h2>sinks</h2>" in dom.stdout and "REFUSING" not in dom.stdout, dom.stdout[-3000:]
    shot = os.path.join(str(tmp_path), "status-page.png")
    subprocess.run([browser, *flags, "--window-size=1500,560", f"--screenshot={shot}", f"http://127.0.0.1:{port}/"],
                   capture_output=True, text=True, timeout=90)
    with open(shot, "rb") as f:
        png = f.read()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000, len(png)
    if os.environ.get("SOCKEYE_UPDATE_SCREENSHOT") == "1":
        os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
        shutil.copy(shot, os.path.join(ROOT, "docs", "status-page.png"))
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.err[-20:]
