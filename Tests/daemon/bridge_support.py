"""Helpers for the tests of sockeyed's delivery modes (issue 15): switching the simulator's
delivery mode, a sockeyed configuration file, the operations endpoints and bounded waits."""
import json
import os
import re
import signal
import time
import urllib.error
import urllib.request

from daemon_support import APP_TOKEN, Proc, binary, free_port
from sim_process import BOT_TOKEN

SECRET = "bridge-test-signing-secret"


def http(url, body=None, headers=None, timeout=10, method=None):
    """(status, bytes) of one request; a JSON `body` (dict) is encoded, bytes are sent as they are."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=dict({"Content-Type": "application/json"}, **(headers or {})),
                                     method=method or ("POST" if data is not None else "GET"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def delivery(sim, mode, port=None, secret=SECRET):
    """Switches the simulator's app 0 to delivery `mode`; with `port`, its Request URLs point at
    127.0.0.1:port and requests are signed with `secret`."""
    body = {"app": 0, "mode": mode}
    if port is not None:
        body.update(request_url=f"http://127.0.0.1:{port}/slack/events",
                    commands_url=f"http://127.0.0.1:{port}/slack/commands",
                    actions_url=f"http://127.0.0.1:{port}/slack/actions", signing_secret=secret)
    reply = sim.admin("delivery", body)
    assert reply["ok"] and reply["mode"] == mode, reply
    return reply


def sockeyed_config(path, api, delivery, sinks, routes_to, ops_port, secret=SECRET, name="bridge", public_port=None):
    """Writes a configuration with one app (delivery `delivery`, every event to `routes_to`);
    with `public_port`, the public listener (the ingress of HTTP apps) listens there."""
    secret_line = f"    signing_secret: {secret}\n"
    public = f"public:\n  listen: 127.0.0.1:{public_port}\n" if public_port is not None else ""
    with open(path, "w") as f:
        f.write(f"""apps:
  - name: {name}
    app_token: {APP_TOKEN}
    api_url: {api}
    pool_size: 1
    delivery: {delivery}
{secret_line}    routes:
      - sinks: [{", ".join(routes_to)}]
sinks:
{sinks}
operations:
  listen: 127.0.0.1:{ops_port}
{public}""")
    return path


def start_sockeyed(processes, config, log_level="warning"):
    daemon = Proc([binary("sockeyed"), "run", "--config", config, "--log-level", log_level])
    processes.append(daemon)
    return daemon


def ready(port):
    try:
        return http(f"http://127.0.0.1:{port}/readyz", timeout=2)[0] == 200
    except OSError:
        return False


def status(port):
    return json.loads(http(f"http://127.0.0.1:{port}/status.json")[1])


def metrics(port):
    """{(name, frozenset(labels)): value} from the Prometheus text on /metrics."""
    text = http(f"http://127.0.0.1:{port}/metrics")[1].decode()
    values = {}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$", line)
        if not match or line.startswith("#"):
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        values[(match.group(1), labels)] = float(match.group(3))
    return values


def wait_until(predicate, timeout, what, daemon=None):
    """Polls `predicate` until it returns something true; fails after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            detail = f"; sockeyed stderr: {daemon.err[-15:]}" if daemon else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")
        time.sleep(0.05)


def stop(daemon, timeout=20):
    daemon.signal(signal.SIGTERM)
    code = daemon.wait(timeout)
    assert code == 0, f"sockeyed exit {code}: {daemon.err[-20:]}"


def file_sink(name, path):
    return f"  {name}:\n    type: file\n    path: {path}\n"


def reload(daemon, path, text_transform):
    """Rewrites the configuration at `path` with `text_transform(text)` and sends SIGHUP."""
    with open(path) as f:
        text = f.read()
    with open(path + ".new", "w") as f:
        f.write(text_transform(text))
    os.replace(path + ".new", path)
    daemon.signal(signal.SIGHUP)


__all__ = ["SECRET", "BOT_TOKEN", "delivery", "http", "sockeyed_config", "start_sockeyed", "ready", "status", "metrics",
           "wait_until", "stop", "file_sink", "reload", "free_port"]
