"""Token rotation in a running sockeyed: the simulator issues rotating tokens that live 65 s,
sockeyed refreshes a minute ahead, and 1 000 events of that installation arrive while its
token is being refreshed. Exactly one refresh call reaches Slack, no refresh token is spent
twice, every event is delivered with its installation, and the new token works."""
import json
import sqlite3
import time
import urllib.request

from oauth_support import OAuthDaemon, install


def client_stats(sim):
    return sim.admin("oauth/stats")["oauth"]["clients"][0]


def test_events_while_the_token_expires_cause_exactly_one_refresh(tmp_path, processes, start_sim):
    sim = start_sim("--token-lifetime", "65")
    daemon = OAuthDaemon(tmp_path, sim, processes, refresh_ahead="60s")
    assert install(daemon, "T0SIM0002")[0] == 200
    with sqlite3.connect(daemon.store) as db:
        first_token, first_refresh, expires = db.execute(
            "select bot_token, bot_refresh_token, bot_token_expires_at from slack_bots").fetchone()
    assert first_token.startswith("xoxe.xoxb-") and first_refresh.startswith("xoxe-1-")
    assert int(expires) - time.time() <= 66
    # The refresh falls due 5 s after the install: events arrive before, during and after it.
    for _ in range(10):
        sim.admin("oauth/inject", {"team": "T0SIM0002", "kind": "message", "count": 100})
        time.sleep(1)
    sim.wait_for(lambda: sim.total()["acked"] >= 1000, 60, "1 000 acks")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and client_stats(sim)["accessCalls"].get("refresh_token", 0) < 1:
        time.sleep(0.2)
    time.sleep(2)  # a second refresh, if there were one, would come now
    stats = client_stats(sim)
    assert stats["accessCalls"].get("refresh_token", 0) == 1, stats
    assert stats["invalidRefreshToken"] == 0, stats
    lines = daemon.lines()
    assert len(lines) == 1000 and {line["installation"] for line in lines} == {"T0SIM0002"}
    with sqlite3.connect(daemon.store) as db:
        token, refresh, expires = db.execute("select bot_token, bot_refresh_token, bot_token_expires_at from slack_bots").fetchone()
        rows = db.execute("select count(*) from slack_bots").fetchone()[0]
    assert rows == 1
    assert token != first_token and refresh != first_refresh and int(expires) > time.time() + 30
    # The new token works.
    request = urllib.request.Request(f"{sim.api}auth.test", data=b"", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["ok"]
    assert daemon.metric("sockeyed_token_refreshes_total", app="multi", outcome="refreshed") == 1
