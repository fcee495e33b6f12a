"""The interop tests' helpers: the envelope mix, the clean-run check and a counting Bolt app.
A module of its own name (not conftest), so that this suite and another one can be
collected in one pytest run."""
import os
import sys
import threading

from slack_bolt import App

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from sim_process import APP_TOKEN, BOT_TOKEN  # noqa: E402,F401

# The mix every run uses: every envelope type, including the ~62 KB view_submission.
KINDS = ["message", "app_mention", "reaction_added", "slash_command", "block_actions", "shortcut", "view_submission"]


def inject_mix(sim, total, rate=250):
    """Delivers `total` envelopes cycling through KINDS at `rate` per second (the load
    generator's open-loop mode); returns the count per kind.

    Paced on purpose: slack_sdk's builtin client parses frames recursively and hits
    RecursionError when megabytes of back-to-back frames are already buffered."""
    counts = {k: 0 for k in KINDS}
    for i in range(total):
        counts[KINDS[i % len(KINDS)]] += 1
    sim.admin("load", {"rate": rate, "total": total, "kinds": KINDS})
    return counts


def assert_clean_run(sim, total):
    """Every envelope delivered once and acked; no retries, failures or stray acks."""
    t = sim.wait_for(lambda: (s := sim.stats()["total"]) and s["acked"] >= total and s, what=f"{total} acks")
    assert t["acked"] == total
    assert t["delivered"] == total
    assert t["redelivered"] == 0
    assert t["failedAfterRetries"] == 0
    assert t["userVisibleFailures"] == 0
    assert t["unknownAcks"] == 0
    assert t["duplicateAcks"] == 0
    assert t["malformedFrames"] == 0
    return t


def counting_bolt_app(signing_secret, client, command_ok=lambda command: True):
    """A slack_bolt App whose listeners ack every kind in KINDS and count what they saw;
    returns (app, hits), hits being {kind: count}. A slash command is counted only when
    `command_ok(command)` holds, so a test can check the form decoding too."""
    app = App(signing_secret=signing_secret, client=client)
    hits = {}
    lock = threading.Lock()

    def hit(name):
        with lock:
            hits[name] = hits.get(name, 0) + 1

    app.event("message")(lambda ack: (ack(), hit("message")))
    app.event("app_mention")(lambda ack: (ack(), hit("app_mention")))
    app.event("reaction_added")(lambda ack: (ack(), hit("reaction_added")))
    app.command("/deploy")(lambda ack, command: (ack(), hit("slash_command") if command_ok(command) else None))
    app.action("approve")(lambda ack: (ack(), hit("block_actions")))
    app.shortcut("do-something")(lambda ack: (ack(), hit("shortcut")))
    app.view("modal-with-inputs")(lambda ack: (ack(), hit("view_submission")))
    return app, hits
