"""Helpers for the OAuth install tests: a sockeyed with an app installed by OAuth against a
sockeye-sim (its default OAuth client), and the install flow walked without a browser (the
simulator's sim-only shortcut approves for a chosen workspace)."""
import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request

from daemon_support import Proc, binary, free_port, json_lines

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "simclientsecret"


class OAuthDaemon:
    """sockeyed with one app (`multi`) installed by OAuth: a public listener for the install
    flow, an operations listener, a file sink, its installation store in `tmp`."""

    def __init__(self, tmp, sim, processes, extra_app="", extra_sinks="", refresh_ahead=None, env_extra=None):
        self.tmp = str(tmp)
        self.public_port = free_port()
        self.ops_port = free_port()
        self.store = os.path.join(self.tmp, "installations.db")
        self.events = os.path.join(self.tmp, "events.jsonl")
        self.config = os.path.join(self.tmp, "sockeyed.yaml")
        self.redirect = f"http://127.0.0.1:{self.public_port}/slack/oauth_redirect"
        ahead = f"\n      refresh_ahead: {refresh_ahead}" if refresh_ahead else ""
        with open(self.config, "w") as f:
            f.write(f"""apps:
  - name: multi
    app_token: ${{SLACK_APP_TOKEN}}
    api_url: {sim.api}
    pool_size: 1
    oauth:
      client_id: {CLIENT_ID}
      client_secret: ${{SLACK_CLIENT_SECRET}}
      scopes: [app_mentions:read, chat:write, commands]
      redirect_url: {self.redirect}
      store: {self.store}
      authorize_url: {sim.base}/oauth/v2/authorize{ahead}
{extra_app}    routes:
      - sinks: [events]
sinks:
  events: {{type: file, path: {self.events}}}
{extra_sinks}operations:
  listen: 127.0.0.1:{self.ops_port}
public:
  listen: 127.0.0.1:{self.public_port}
""")
        self.env = {**os.environ, "SLACK_APP_TOKEN": "xapp-1-A0SIMAPP01-1-simsecret", "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                    **(env_extra or {})}
        self.proc = Proc([binary("sockeyed"), "run", "--config", self.config], env=self.env)
        processes.append(self.proc)
        ok = self.proc.wait_for(lambda: self.ready(), 60)
        assert ok, "\n".join(self.proc.err[-30:])

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ops_port}/readyz", timeout=2) as response:
                return response.status == 200
        except Exception:
            return False

    def status(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ops_port}/status.json", timeout=5) as response:
            return json.loads(response.read())

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ops_port}/metrics", timeout=5) as response:
            return response.read().decode()

    def metric(self, name, **labels):
        """The value of one series of /metrics (0 when absent)."""
        for line in self.metrics().splitlines():
            if not line.startswith(name + "{") and line.split(" ")[0] != name:
                continue
            if all(f'{key}="{value}"' in line for key, value in labels.items()):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def lines(self):
        return json_lines(self.events)

    def cli(self, *args, check=True):
        """`sockeyed installations …` with this daemon's configuration."""
        result = subprocess.run([binary("sockeyed"), "installations", *args, "--config", self.config], env=self.env,
                                capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def listed(self, *flags):
        """`installations list --json` as objects."""
        return [json.loads(line) for line in self.cli("list", "--json", *flags).stdout.splitlines() if line.strip()]


def get(url, headers=None):
    """One GET without following redirects: (status, headers as a list, body text)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request("GET", target, headers=headers or {})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, response.getheaders(), body


def start_install(daemon):
    """The install page: (authorize link, cookie header value `sockeye_install=…`)."""
    status, headers, body = get(f"http://127.0.0.1:{daemon.public_port}/slack/install")
    assert status == 200, body
    link = re.search(r'id="add-to-slack"[^>]*href="([^"]+)"', body).group(1).replace("&amp;", "&")
    cookie = next(value for name, value in headers if name.lower() == "set-cookie").split(";")[0]
    return link, cookie


def approve(link, workspace):
    """Slack's consent, approved for `workspace` (a team id, or the enterprise id for an
    org-wide install) through the simulator's shortcut: the redirect URL Slack sends back."""
    status, headers, body = get(f"{link}&sim_decision=approve&sim_workspace={workspace}")
    assert status == 302, (status, body)
    return next(value for name, value in headers if name.lower() == "location")


def install(daemon, workspace):
    """The whole flow for `workspace`: (status, body) of the page the redirect answers."""
    link, cookie = start_install(daemon)
    back = approve(link, workspace)
    status, _, body = get(back, {"Cookie": cookie})
    return status, body


def wait(predicate, timeout, what):
    """Polls `predicate` until it returns something true and returns that; fails after
    `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
