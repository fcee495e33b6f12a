"""Token rotation in a cluster: two sockeyed nodes (separate installation stores, one
nats-server) share an OAuth app whose tokens live 65 s and are refreshed a minute ahead. 1 000
events of the installation arrive over both nodes' connections while its token is refreshed:
exactly one refresh call reaches Slack, no refresh token is spent twice, both stores end with
the same new pair, and every event is delivered with its installation."""
import sqlite3
import time

from daemon_support import json_lines
from oauth_support import OAuthDaemon, install, wait


def node(tmp_path, name, sim, processes, url):
    folder = tmp_path / name
    folder.mkdir()
    cluster = f"cluster:\n  nats: [{url}]\n  node: {name}\n  lease_time: 3s\n"
    return OAuthDaemon(folder, sim, processes, extra_sinks=cluster, refresh_ahead="60s")


def bot_pair(daemon):
    with sqlite3.connect(daemon.store) as db:
        return db.execute("select bot_token, bot_refresh_token from slack_bots where team_id = 'T0SIM0002'").fetchone()


def test_two_nodes_refresh_an_expiring_token_once(tmp_path, processes, start_sim, nats):
    nats_server = nats()
    sim = start_sim("--token-lifetime", "65")
    a = node(tmp_path, "node-a", sim, processes, nats_server.url)
    b = node(tmp_path, "node-b", sim, processes, nats_server.url)
    wait(lambda: len(sim.live_connections()) >= 2, 30, "a connection from each node")
    assert install(a, "T0SIM0002")[0] == 200
    first = wait(lambda: bot_pair(b), 30, "the installation in B's store")
    assert bot_pair(a) == first
    for _ in range(10):
        sim.admin("oauth/inject", {"team": "T0SIM0002", "kind": "message", "count": 100})
        time.sleep(1)
    sim.wait_for(lambda: sim.total()["acked"] >= 1000, 60, "1 000 acks")

    def stats():
        return sim.admin("oauth/stats")["oauth"]["clients"][0]

    wait(lambda: stats()["accessCalls"].get("refresh_token", 0) >= 1, 40, "the refresh")
    # Both stores converge on the new pair; a second refresh, if any, would come meanwhile.
    wait(lambda: bot_pair(a) != first and bot_pair(a) == bot_pair(b), 30, "the new pair on both nodes")
    time.sleep(3)
    assert stats()["accessCalls"].get("refresh_token", 0) == 1, stats()
    assert stats()["invalidRefreshToken"] == 0, stats()
    lines = json_lines(a.events) + json_lines(b.events)
    assert len(lines) == 1000 and {line["installation"] for line in lines} == {"T0SIM0002"}
    assert json_lines(a.events) and json_lines(b.events), "both nodes carried events"
    refreshed = sum(d.metric("sockeyed_token_refreshes_total", app="multi", outcome="refreshed") for d in (a, b))
    assert refreshed == 1
