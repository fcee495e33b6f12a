"""sockeyed's log formats on real processes (issue "Ship it"): `--log-format json` writes one
JSON object per line on standard error (time, level, logger, source, message, fields), even
for a message full of quotes, newlines and control characters, with no secret in any line;
/metrics has the ack-latency buckets from 100 µs to 3 s and `sockeyed_build_info`; when
standard error is the journal (JOURNAL_STREAM names it) each line starts with its syslog
priority; the status line is written on a terminal with text logs only."""
import json
import os
import pty
import re
import signal
import subprocess
import threading
import tty

from bridge_support import BOT_TOKEN, http, wait_until
from daemon_support import APP_TOKEN, Proc, binary, free_port, json_lines

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LEVELS = {"trace", "debug", "info", "notice", "warning", "error", "critical"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BUCKETS = ["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
           "1.0", "2.0", "3.0"]
# A program name no system has, made of what breaks a log line: quotes, a newline, a bell, a
# backslash, a JavaScript line separator, a non-ASCII letter. The command sink's refusal names it.
HOSTILE_PROGRAM = '/nonexistent/say "hi"\n\x07 caf\u00e9 \u2028 \\back'
SECRETS = [APP_TOKEN, APP_TOKEN.split("-")[-1], BOT_TOKEN]


def environment(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SOCKEYE_CONFIG", "SOCKEYE_LOG_FORMAT", "SOCKEYE_LOG_LEVEL", "JOURNAL_STREAM", "SLACK_APP_TOKEN")}
    env.update(extra)
    return env


def configuration(folder, api, ops_port):
    """One app: messages go to a file, reactions to a command that cannot run (refused, logged)."""
    path = os.path.join(folder, "sockeyed.yaml")
    with open(path, "w") as f:
        f.write(f"""apps:
  - name: json-logs
    app_token: {APP_TOKEN}
    bot_token: {BOT_TOKEN}
    api_url: {api}
    pool_size: 1
    routes:
      - {{match: {{event_type: message}}, sinks: [out]}}
      - {{match: {{event_type: reaction_added}}, sinks: [broken]}}
sinks:
  out: {{type: file, path: {folder}/events.jsonl}}
  broken:
    type: command
    command: [{json.dumps(HOSTILE_PROGRAM)}]
operations:
  listen: 127.0.0.1:{ops_port}
""")
    return path


def version():
    """SockeyeVersion.string, read from its source."""
    with open(os.path.join(ROOT, "Sources", "SockeyeCore", "SockeyeVersion.swift")) as f:
        text = f.read()
    parts = [re.search(rf"static let {name} = (\d+)", text).group(1) for name in ("major", "minor", "patch")]
    return ".".join(parts)


def parse_line(line):
    """One stderr line as the JSON object it must be, with the envelope checked."""
    try:
        record = json.loads(line)
    except ValueError as error:
        raise AssertionError(f"not a JSON line ({error}): {line!r}")
    assert isinstance(record, dict), line
    assert TIME.match(record.get("time", "")), line
    assert record.get("level") in LEVELS, line
    assert isinstance(record.get("message"), str) and record["message"], line
    assert record.get("logger") == "sockeyed" and isinstance(record.get("source"), str), line
    assert set(record) <= {"time", "level", "logger", "source", "message", "fields"}, line
    if "fields" in record:
        assert isinstance(record["fields"], dict) and record["fields"], line
    return record


def test_json_lines_metrics_and_build_info(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    sim = start_sim()
    ops_port = free_port()
    config = configuration(folder, sim.api, ops_port)
    # JOURNAL_STREAM names another file (as a child of a service may inherit it): no prefix.
    daemon = Proc([binary("sockeyed"), "run", "--config", config, "--log-format", "json", "--log-level", "debug"],
                  env=environment(JOURNAL_STREAM="1:1"))
    processes.append(daemon)
    wait_until(lambda: sim.live_connections(), 60, "a live connection", daemon)
    sim.inject("message", count=20)
    wait_until(lambda: len(json_lines(os.path.join(folder, "events.jsonl"))) >= 20, 60, "20 events in the file", daemon)
    sim.inject("reaction_added", count=1)
    wait_until(lambda: any("sink refused events" in line for line in daemon.err), 60, "the command sink's refusal", daemon)
    status, metrics = http(f"http://127.0.0.1:{ops_port}/metrics")
    assert status == 200
    metrics = metrics.decode()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.err[-20:]

    records = [parse_line(line) for line in daemon.err]
    assert len(records) > 5, daemon.err
    # Metadata arrives as fields: strings stay strings, counts are numbers.
    connecting = [r for r in records if r["message"] == "connecting"]
    assert connecting and connecting[0]["fields"]["app"] == "json-logs", connecting
    assert connecting[0]["fields"]["pool_size"] == 1, connecting
    assert any(r["message"] == "connection live" and r["fields"].get("app") == "json-logs" for r in records), records
    # The refusal's text came back exactly, quotes, newline and control characters included.
    refusals = [r for r in records if r["message"].startswith("sink refused events")]
    assert refusals and refusals[0]["level"] == "error", records
    assert HOSTILE_PROGRAM in refusals[0]["fields"]["error"], refusals[0]
    assert {r["level"] for r in records} >= {"info", "error"}, records
    # No status line (standard error is a pipe), no secret anywhere.
    text = "\n".join(daemon.err)
    assert not re.search(r"\d+ apps?  events \d+", text) and "de-duplicated" not in text, text[-2000:]
    assert not [s for s in SECRETS if s in text]

    labels = r'\{[^}]*app="json-logs"[^}]*\}'
    for bound in BUCKETS + ["+Inf"]:
        pattern = rf'^sockeyed_ack_latency_seconds_bucket\{{(?=[^}}]*app="json-logs")(?=[^}}]*le="{re.escape(bound)}")[^}}]*\}} (\d+)'
        assert re.search(pattern, metrics, re.M), f"no bucket le={bound}:\n" + "\n".join(
            line for line in metrics.splitlines() if "ack_latency" in line)
    count = re.search(rf"^sockeyed_ack_latency_seconds_count{labels} (\d+)", metrics, re.M)
    assert count and int(count.group(1)) >= 20, count
    assert not re.search(r'sockeyed_ack_latency_seconds_bucket\{[^}]*le="(10\.0|5\.0|2\.5)"', metrics), "the old buckets"
    info = re.search(r'^sockeyed_build_info\{([^}]*)\} (\S+)$', metrics, re.M)
    assert info, [line for line in metrics.splitlines() if "build" in line]
    assert float(info.group(2)) == 1
    assert f'version="{version()}"' in info.group(1) and re.search(r'swift="\d+\.\d+\+?"', info.group(1)), info.group(0)


def test_journal_priorities(tmp_path, processes, start_sim):
    """Standard error is a file whose device and inode JOURNAL_STREAM names, as systemd sets it
    for the journal: every line starts with <N>, info <6>, a lost connection <4>, a refusal <3>."""
    folder = str(tmp_path)
    sim = start_sim()
    ops_port = free_port()
    config = configuration(folder, sim.api, ops_port)
    log_path = os.path.join(folder, "journal.log")
    with open(log_path, "wb") as log:
        stat = os.fstat(log.fileno())
        env = environment(JOURNAL_STREAM=f"{stat.st_dev}:{stat.st_ino}")
        proc = subprocess.Popen([binary("sockeyed"), "run", "--config", config], stdout=subprocess.DEVNULL, stderr=log,
                                env=env, start_new_session=True)
    daemon = Wrapped(proc, log_path)
    processes.append(daemon)

    def logged(text):
        return lambda: text in daemon.text()

    wait_until(lambda: sim.live_connections(), 60, "a live connection", daemon)
    wait_until(logged("connection live"), 60, "the connection's log line", daemon)
    sim.admin("fault", {"kind": "rst"})
    wait_until(logged("connection lost"), 60, "the lost connection's log line", daemon)
    wait_until(lambda: sim.live_connections(), 60, "a new live connection", daemon)
    sim.inject("reaction_added", count=1)
    wait_until(logged("sink refused events"), 60, "the refusal's log line", daemon)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, daemon.text()[-3000:]

    text = daemon.text()
    assert text.endswith("\n"), text[-500:]
    lines = text[:-1].split("\n")  # not splitlines(): U+2028 in a line is no line break here
    for line in lines:
        assert re.match(r"^<[2-7]>\d{4}-\d\d-\d\dT", line), line
    assert any(line.startswith("<6>") and "connection live" in line for line in lines), lines
    assert any(line.startswith("<4>") and "connection lost" in line for line in lines), lines
    assert any(line.startswith("<3>") and "sink refused events" in line for line in lines), lines
    # The hostile program name did not split its line: the newline is escaped.
    refusal = next(line for line in lines if "sink refused events" in line)
    assert '"hi"\\n\\u0007' in refusal, refusal


class Wrapped:
    """A child writing its standard error to a file: what the tests' helpers need of Proc."""

    def __init__(self, proc, path):
        self.proc, self.path = proc, path

    def text(self):
        with open(self.path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def err(self):
        return self.text().split("\n")

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def run_on_terminal(argv, env, until, processes):
    """Runs argv with standard error on a pseudo-terminal (raw: no newline translation) and
    returns all it wrote once it exits; `until(output so far)` says when to send SIGTERM."""
    primary, secondary = pty.openpty()
    tty.setraw(secondary)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary, env=env,
                            start_new_session=True)
    os.close(secondary)
    holder = Wrapped(proc, os.devnull)
    processes.append(holder)
    chunks = []
    done = threading.Event()

    def read():
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    output = lambda: b"".join(chunks).decode("utf-8", "replace")  # noqa: E731
    wait_until(lambda: until(output()), 60, "the expected output on the terminal", holder)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    code = proc.wait(30)
    done.wait(10)
    os.close(primary)
    return code, output()


def test_status_line_on_a_terminal_with_text_logs_only(tmp_path, processes, start_sim):
    folder = str(tmp_path)
    sim = start_sim()
    config = configuration(folder, sim.api, free_port())
    argv = [binary("sockeyed"), "run", "--config", config]
    # Text logs on a terminal: the live status line, rewritten in place.
    code, text = run_on_terminal(argv, environment(), lambda out: "connections 1/1" in out, processes)
    assert code == 0, text[-2000:]
    assert "\r\x1b[K" in text and "sockeyed  1 app  events" in text, text[-2000:]
    # JSON logs on the same terminal: no status line; every line is a JSON object, up to the
    # shutdown (where a status line would end with a newline of its own).
    code, text = run_on_terminal(argv + ["--log-format", "json"], environment(),
                                 lambda out: "connection live" in out, processes)
    assert code == 0, text[-2000:]
    assert "\x1b[K" not in text and "connections 1/1" not in text, text[-2000:]
    assert text.endswith("\n"), text[-500:]
    for line in text[:-1].split("\n"):
        parse_line(line)
    # Asking for the status line with JSON logs is a usage error.
    refused = subprocess.run(argv + ["--log-format", "json", "--status-line"], env=environment(), capture_output=True,
                             text=True, timeout=30)
    assert refused.returncode == 64 and "--status-line" in refused.stderr, refused
    bad = subprocess.run(argv, env=environment(SOCKEYE_LOG_FORMAT="yaml"), capture_output=True, text=True, timeout=30)
    assert bad.returncode == 64 and "SOCKEYE_LOG_FORMAT" in bad.stderr, bad


def test_what_sockeyed_says_itself_is_json_too(tmp_path):
    """A configuration error before any app starts is one JSON line in json mode, plain text
    otherwise; the exit status is 2 either way."""
    missing = str(tmp_path / "missing.yaml")
    json_mode = subprocess.run([binary("sockeyed"), "run", "--log-format", "json", "--config", missing], capture_output=True, text=True,
                               timeout=30)
    assert json_mode.returncode == 2
    lines = [line for line in json_mode.stderr.splitlines() if line.strip()]
    assert lines, json_mode.stderr
    for line in lines:
        record = json.loads(line)
        assert record["level"] == "critical" and "cannot read the file" in record["message"], record
    text_mode = subprocess.run([binary("sockeyed"), "run", "--config", missing], capture_output=True, text=True, timeout=30)
    assert text_mode.returncode == 2 and text_mode.stderr.startswith("sockeyed: "), text_mode.stderr
