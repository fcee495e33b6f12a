"""No token, secret or password leaves sockeyed: a real daemon whose configuration and
environment hold secrets (app and bot tokens, a signing secret, a command argument, a
forwarder URL with credentials and a query, an unrelated password in its environment) runs
events through a command sink and a failing HTTP forwarder at debug level; then every output
is searched for the secrets: its standard output and error, the status page, status.json,
/metrics, the command's own environment, `sockeyed check`, and a configuration error that
points at a secret."""
import os
import re
import signal

from bridge_support import BOT_TOKEN, http, wait_until
from daemon_support import APP_TOKEN, Proc, binary, free_port

SECRETS = {
    "app token": APP_TOKEN,
    "app token's secret part": APP_TOKEN.split("-")[-1],
    "bot token": BOT_TOKEN,
    "signing secret": "fwdsigningsecretvalue",
    "command argument": "argumentsecretvalue",
    "URL user": "fwduservalue",
    "URL password": "fwdpasswordvalue",
    "URL query": "querysecretvalue",
    "unrelated password": "databasepasswordvalue",
}


def environment(tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in ("SOCKEYE_CONFIG",)}
    env.update(SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=BOT_TOKEN, FORWARD_SECRET=SECRETS["signing secret"],
               DATABASE_PASSWORD=SECRETS["unrelated password"], TMPDIR=str(tmp_path))
    return env


def configuration(path, api, ops_port, folder):
    with open(path, "w") as f:
        f.write(f"""apps:
  - name: secretive
    app_token: ${{SLACK_APP_TOKEN}}
    bot_token: ${{SLACK_BOT_TOKEN}}
    api_url: {api}
    pool_size: 1
    routes:
      - sinks: [handler, forward]
sinks:
  handler:
    type: command
    command: [sh, -c, 'env > "$1"; cat > /dev/null', sh, {folder}/child-env, --token={SECRETS["command argument"]}]
    env: {{HANDLER_MODE: strict}}
  forward:
    type: http
    url: "http://{SECRETS["URL user"]}:{SECRETS["URL password"]}@127.0.0.1:1/hook?token={SECRETS["URL query"]}"
    signing_secret: ${{FORWARD_SECRET}}
    timeout: 1s
operations:
  listen: 127.0.0.1:{ops_port}
""")
    return path


def answers(url):
    try:
        return http(url, timeout=2)[0] == 200
    except OSError:
        return False


def leaks(text):
    return [name for name, value in SECRETS.items() if value in text]


def test_no_secret_in_any_output(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    sim = start_sim()
    ops_port = free_port()
    config = configuration(os.path.join(folder, "sockeyed.yaml"), sim.api, ops_port, folder)
    daemon = Proc([binary("sockeyed"), "run", "--config", config, "--log-level", "debug"], env=environment(tmp_path))
    processes.append(daemon)
    wait_until(lambda: answers(f"http://127.0.0.1:{ops_port}/healthz"), 60, "the operations listener", daemon)
    sim.admin("inject", {"kind": "message", "count": 3, "app": 0})
    # The forwarder cannot reach its app: the events are nacked and the error names the URL.
    wait_until(lambda: b"127.0.0.1:1" in http(f"http://127.0.0.1:{ops_port}/status.json")[1], 60,
               "the forwarder's error on the status page", daemon)
    wait_until(lambda: os.path.exists(os.path.join(folder, "child-env")), 30, "the command's environment", daemon)

    pages = {path: http(f"http://127.0.0.1:{ops_port}{path}")[1].decode() for path in ("/", "/status.json", "/metrics")}
    with open(os.path.join(folder, "child-env")) as f:
        child = f.read()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.err[-20:]

    check = Proc([binary("sockeyed"), "check", "--config", config, "--probe-seconds", "2"], env=environment(tmp_path))
    processes.append(check)
    assert check.wait(60) is not None
    bad_path = os.path.join(folder, "bad.yaml")
    with open(config) as f:
        text = f.read()
    with open(bad_path, "w") as f:
        f.write(text.replace("pool_size: 1", "pool_size: ${SLACK_APP_TOKEN}"))
    bad = Proc([binary("sockeyed"), "run", "--config", bad_path], env=environment(tmp_path))
    processes.append(bad)
    assert bad.wait(30) == 2

    outputs = {
        "sockeyed stdout": "\n".join(daemon.out), "sockeyed stderr": "\n".join(daemon.err),
        "check stdout": "\n".join(check.out), "check stderr": "\n".join(check.err),
        "config error": "\n".join(bad.out + bad.err),
        "command's environment": child, **pages,
    }
    assert "HANDLER_MODE=strict" in child and "SOCKEYE_APP=secretive" in child, child
    assert re.search(r"(?m)^PATH=", child), child
    assert "http://127.0.0.1:1/hook" in pages["/"], pages["/"][-3000:]
    assert len(daemon.err) > 5, "the run logged nothing to search"
    found = {name: leaks(text) for name, text in outputs.items() if leaks(text)}
    assert not found, found
