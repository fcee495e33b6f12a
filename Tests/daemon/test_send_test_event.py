"""`sockeyed send-test-event`: one synthetic event through an app's routes and real sinks,
without Slack: the file sink gets a line marked as a test, a command sink's answer to a slash
command is shown, a refusing sink makes it exit 1, and an app installed by OAuth sends it as
its first installation's event."""
import json
import os
import subprocess
import sys

from daemon_support import APP_TOKEN, binary, json_lines
from oauth_support import OAuthDaemon, install


def run(config, *args, env=None):
    return subprocess.run([binary("sockeyed"), "send-test-event", "--config", config, *args], capture_output=True, text=True,
                          timeout=60, env=env)


def write_config(folder, extra_route="", extra_sinks=""):
    config = os.path.join(folder, "sockeyed.yaml")
    with open(config, "w") as f:
        f.write(f"""apps:
  - name: checked
    app_token: {APP_TOKEN}
    routes:
      - sinks: [out]
{extra_route}sinks:
  out: {{type: file, path: {folder}/events.jsonl}}
{extra_sinks}""")
    return config


def test_a_message_reaches_the_file_sink_marked_as_a_test(tmp_path):
    folder = str(tmp_path)
    config = write_config(folder)
    result = run(config, "--app", "checked", "--team", "T0TEST1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "out: accepted" in result.stdout
    lines = json_lines(os.path.join(folder, "events.jsonl"))
    assert len(lines) == 1
    line = lines[0]
    assert line["app"] == "checked" and line["team"] == "T0TEST1" and line["event_type"] == "message"
    assert line["event_id"].startswith("EvSOCKEYETEST") and line["envelope_id"].startswith("sockeye-test-")
    assert line["payload"]["sockeye_test"] is True
    assert run(config, "--app", "nope").returncode == 2
    assert run(config, "--app", "checked", "--type", "bogus").returncode == 64


def test_a_command_sinks_answer_is_shown_and_a_refusal_exits_1(tmp_path):
    folder = str(tmp_path)
    answer = os.path.join(folder, "answer.py")
    with open(answer, "w") as f:
        f.write("import json, sys\nline = json.loads(sys.stdin.readline())\n"
                "print(json.dumps({'text': 'pong ' + line['payload']['text']}))\n")
    sinks = (f"  answer: {{type: command, command: [{sys.executable}, {answer}]}}\n"
             f"  broken: {{type: command, command: [{sys.executable}, -c, 'import sys; sys.exit(3)']}}\n")
    routes = ("      - match: {envelope_type: slash_commands}\n        sinks: [answer]\n"
              "      - match: {event_type: app_mention}\n        sinks: [broken]\n")
    config = write_config(folder, routes, sinks)
    result = run(config, "--app", "checked", "--type", "slash_command", "--text", "ping")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "answer: accepted" in result.stdout and '"text": "pong ping"' in result.stdout.replace('":"', '": "'), result.stdout
    refused = run(config, "--app", "checked", "--type", "app_mention")
    assert refused.returncode == 1 and "broken: REFUSED" in refused.stdout, refused.stdout


def test_an_app_installed_by_oauth_sends_as_its_installation(tmp_path, processes, sim):
    daemon = OAuthDaemon(tmp_path, sim, processes)
    assert install(daemon, "T0SIM0002")[0] == 200
    result = run(daemon.config, "--app", "multi", env=daemon.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installation T0SIM0002" in result.stdout
    tests = [line for line in daemon.lines() if line["event_id"].startswith("EvSOCKEYETEST")]
    assert [(line["team"], line["installation"]) for line in tests] == [("T0SIM0002", "T0SIM0002")]
    unknown = run(daemon.config, "--app", "multi", "--team", "T0NOBODY", env=daemon.env)
    assert unknown.returncode == 1 and "no active installation" in unknown.stdout, unknown.stdout
    assert json.dumps(tests).count("xox") == 0
