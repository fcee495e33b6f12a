"""A file sink under logrotate: while the simulator sends events, the real `logrotate` moves the
sink's file away twice (`create`, then `postrotate` sends SIGHUP, as a packaged daemon's
rotation does). sockeyed reopens the path on SIGHUP: every event the simulator sent is in the
three files (more than once only as far as Slack redelivered it), each of them holds whole lines
only, and each rotation was followed by a reopen."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from daemon_support import APP_TOKEN, Proc, binary, json_lines

TOTAL = 12_000


def test_logrotate_under_load_loses_no_line(tmp_path, processes, start_sim):
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    if not os.path.exists(logrotate):
        pytest.fail("logrotate is missing: apt-get install -y logrotate (scripts/setup --tests installs it)", pytrace=False)
    folder = str(tmp_path)
    events = os.path.join(folder, "events.jsonl")
    sim = start_sim("--load-total", str(TOTAL), "--load-rate", "2000", "--load-delay", "1",
                    "--load-kinds", "message,app_mention,reaction_added", "--duration", "120")
    config = os.path.join(folder, "sockeyed.yaml")
    with open(config, "w") as f:
        f.write(f"""apps:
  - name: rotated
    app_token: {APP_TOKEN}
    api_url: {sim.api}
    routes: [{{sinks: [out]}}]
sinks:
  out: {{type: file, path: {events}}}
operations:
  listen: "off"
""")
    daemon = Proc([binary("sockeyed"), "run", "--config", config], env=dict(os.environ, SOCKEYE_LOG_LEVEL="info"))
    processes.append(daemon)
    rotation = os.path.join(folder, "logrotate.conf")
    with open(rotation, "w") as f:
        f.write(f"""{events} {{
    rotate 5
    missingok
    nocompress
    create 0600
    postrotate
        kill -HUP {daemon.proc.pid}
    endscript
}}
""")
    state = os.path.join(folder, "logrotate.state")
    for threshold in (2_000, 6_000):
        assert daemon.wait_for(lambda: len(json_lines(events)) > threshold // 2, 60), daemon.err[-20:]
        result = subprocess.run([logrotate, "-f", "-s", state, rotation], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    report = sim.report(150)
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(20) == 0, daemon.err[-20:]
    assert report["total"]["failedAfterRetries"] == 0, report["total"]
    files = [events + ".2", events + ".1", events]
    for path in files:
        assert os.path.exists(path), f"{path} is missing: logrotate did not run twice"
        with open(path, "rb") as f:
            data = f.read()
        assert data.endswith(b"\n"), f"{path} ends with a partial line"
    per_file = [json_lines(path) for path in files]
    assert all(per_file), [len(lines) for lines in per_file]
    ids = [line["event_id"] for lines in per_file for line in lines]
    assert len(set(ids)) == TOTAL, f"{len(set(ids))} distinct events written of {TOTAL}"
    assert len(ids) - len(set(ids)) <= report["total"]["redelivered"], "lines written twice beyond Slack's redeliveries"
    reopened = [line for line in daemon.err if "sinks reopened their files" in line]
    assert len(reopened) == 2, daemon.err[-20:]
