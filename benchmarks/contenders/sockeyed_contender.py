"""Contender: sockeyed itself. Writes a configuration for the apps benchmarks/run gives
(SLACK_APP_TOKENS, comma-separated, else SLACK_APP_TOKEN; SOCKEYE_POOL_SIZE connections each;
the sim's Web API at SOCKEYE_API_URL; SSL_CERT_FILE trusted for wss), every event to a file
sink on /dev/null, no operations listener — then becomes sockeyed (exec: the process
benchmarks/run measures is the daemon itself, and SIGTERM drains it).

  python sockeyed_contender.py PATH/TO/sockeyed
"""
import os
import sys

import peer

peer.require_environment()
binary = sys.argv[1]
tokens = [t for t in os.environ.get("SLACK_APP_TOKENS", peer.APP_TOKEN).split(",") if t]
pool = int(os.environ.get("SOCKEYE_POOL_SIZE", "1"))
lines = ["apps:"]
for index, token in enumerate(tokens):
    lines += [f"  - name: app{index}", f"    app_token: {token}", f"    api_url: {peer.API_URL}",
              f"    pool_size: {pool}", "    routes:", "      - sinks: [lines]"]
lines += ["sinks:", "  lines:", "    type: file", "    path: /dev/null", "operations:", '  listen: "off"', ""]
# In benchmarks/scratch (ignored by git), written again by every run.
scratch = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scratch")
os.makedirs(scratch, exist_ok=True)
path = os.path.join(scratch, "sockeyed-contender.yaml")
with open(path, "w") as f:
    f.write("\n".join(lines))
os.execv(binary, [binary, "run", "--config", path, "--log-level", "warning"])
