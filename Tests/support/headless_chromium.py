"""A real headless Chromium driven over the DevTools protocol (one page, one WebSocket): open a
URL, evaluate JavaScript in the page, wait for the page to change. Started on 127.0.0.1 with a
free port and a profile of its own, and stopped by its PID.

    with HeadlessChromium(profile_dir) as browser:
        browser.open("http://127.0.0.1:3000/slack/install")
        browser.click("#add-to-slack")
        browser.wait_for_selector("#approve")
"""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import websocket  # websocket-client


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("Chromium is missing: apt-get install -y chromium (scripts/setup --tests installs it)")


class BrowserError(AssertionError):
    pass


class HeadlessChromium:
    def __init__(self, profile_dir, timeout=60.0):
        os.makedirs(profile_dir, exist_ok=True)
        self.profile_dir = profile_dir
        port_file = os.path.join(profile_dir, "DevToolsActivePort")
        if os.path.exists(port_file):
            os.remove(port_file)
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                 "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                 f"--user-data-dir={profile_dir}", "about:blank"]
        self.proc = subprocess.Popen([chromium_binary(), *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        port = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrowserError(f"Chromium exited with {self.proc.returncode}: {self.proc.stderr.read()[-2000:]!r}")
            try:
                with open(port_file) as f:
                    first = f.readline().strip()
                if first:
                    port = int(first)
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        if port is None:
            self.close()
            raise BrowserError("Chromium did not open its DevTools port")
        self.port = port
        targets = []
        while time.monotonic() < deadline and not targets:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                targets = [t for t in json.loads(response.read()) if t.get("type") == "page"]
            if not targets:
                time.sleep(0.05)
        if not targets:
            self.close()
            raise BrowserError("Chromium has no page")
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method, **params):
        """One DevTools command; its result (events received meanwhile are dropped)."""
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def open(self, url, timeout=30.0):
        self.send("Page.navigate", url=url)
        self.wait_for(lambda: self.evaluate("document.readyState") == "complete" and self.url().startswith(url.split("?")[0]),
                      timeout, f"{url} to load")

    def url(self):
        return self.evaluate("location.href") or ""

    def click(self, selector):
        found = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false; e.click(); return true; }})()")
        if not found:
            raise BrowserError(f"no {selector} on {self.url()}: {self.html()[:2000]}")

    def html(self):
        return self.evaluate("document.documentElement.outerHTML") or ""

    def wait_for_selector(self, selector, timeout=30.0):
        self.wait_for(lambda: self.evaluate(f"document.readyState === 'complete' && !!document.querySelector({json.dumps(selector)})"),
                      timeout, f"{selector}")

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except BrowserError:
                pass  # the page is between two documents
            time.sleep(0.05)
        raise BrowserError(f"timed out after {timeout} s waiting for {what}; at {self.url()}: {self.html()[:2000]}")

    def cookies(self):
        return self.send("Network.getAllCookies").get("cookies", [])

    def close(self):
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
