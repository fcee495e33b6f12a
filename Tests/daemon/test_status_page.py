"""The status page in a real headless browser: the demo runs, Chromium loads the page, the
rendered DOM shows the running app as ready with its history charts, and a screenshot is
taken (written to docs/status-page.png when SOCKEYE_UPDATE_SCREENSHOT=1)."""
import json
import os
import re
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


def history(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=2) as response:
            return json.load(response)["apps"][0].get("history")
    except Exception:
        return None


def sampled(port):
    """How many intervals of the demo app's history have a sample."""
    found = history(port)
    return 0 if found is None else sum(1 for value in found["events_per_second"] if value is not None)


# Samples of 0.25 s: the charts span 90 s. The screenshot waits for most of that to be drawn;
# the test alone for a few seconds' worth.
INTERVAL = 0.25
UPDATING = os.environ.get("SOCKEYE_UPDATE_SCREENSHOT") == "1"


def test_status_page_in_headless_chromium(tmp_path, processes):
    port = free_port()
    daemon = Proc([binary("sockeyed"), "demo", "--seconds", "150", "--rate", "300", "--operations", f"127.0.0.1:{port}",
                   "--history-interval", str(INTERVAL)])
    processes.append(daemon)
    assert daemon.wait_for(lambda: ready(port), 60), daemon.err[-20:]
    wanted = 330 if UPDATING else 20
    assert daemon.wait_for(lambda: sampled(port) >= wanted, 180), (sampled(port), daemon.err[-20:])
    # What the charts draw: the intervals' figures, in the JSON the page is built from.
    found = history(port)
    assert found["interval_seconds"] == INTERVAL
    stamps = found["timestamps"]
    assert all(round(b - a, 3) == INTERVAL for a, b in zip(stamps, stamps[1:])), stamps[:20]
    assert len({len(values) for values in found.values() if isinstance(values, list)}) == 1, found
    recent = [i for i, value in enumerate(found["events_per_second"]) if value is not None][-10:]
    assert any(found["events_per_second"][i] > 0 for i in recent), found["events_per_second"][-20:]
    assert all(found["connections_wanted"][i] == 2 for i in recent), found["connections_wanted"][-20:]
    latencies = [value for value in found["ack_p99_seconds"] if value is not None]
    # Bucket bounds in seconds (a busy machine may be slow: not a deadline here).
    assert latencies and all(0 < value < 60 for value in latencies), latencies[-20:]
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
    # The app's three charts, each an inline SVG with its title, over 360 intervals (90 s).
    svgs = re.findall(r"<svg .*?</svg>", dom.stdout, re.S)
    assert len(svgs) == 3, dom.stdout[-3000:]
    for svg, title in zip(svgs, ["demo: events per second", "demo: ack latency p99", "demo: live connections"]):
        assert f"<title>{title}" in svg, svg[:500]
        assert ">−90 s<" in svg and ">−45 s<" in svg and ">now<" in svg, svg[-500:]
    # The events line is drawn: a command per sampled interval (or run of equal ones).
    line = re.search(r'<path d="(M[^"]*)" fill="none" stroke="#2f6fd0"', svgs[0])
    assert line and line.group(1).count("l") + line.group(1).count("h") >= 5, svgs[0][:2000]
    # Drawn server-side: no script on the page, nothing loaded from elsewhere.
    assert "<script" not in dom.stdout and "src=" not in dom.stdout, dom.stdout[-3000:]
    shot = os.path.join(str(tmp_path), "status-page.png")
    subprocess.run([browser, *flags, "--window-size=1500,620", f"--screenshot={shot}", f"http://127.0.0.1:{port}/"],
                   capture_output=True, text=True, timeout=90)
    with open(shot, "rb") as f:
        png = f.read()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000, len(png)
    if UPDATING:
        os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
        shutil.copy(shot, os.path.join(ROOT, "docs", "status-page.png"))
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.err[-20:]
