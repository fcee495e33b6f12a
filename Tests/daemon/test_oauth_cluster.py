"""OAuth installs in a cluster: two sockeyed nodes (each with its own installation store
file) share one app's Socket Mode connections through one nats-server, against sockeye-sim.
The install lands on node A's public listener; the simulator delivers that workspace's events
over every connection of the app, so some reach node B: B must know the installation (shared
through the `sockeye_installations` bucket) and deliver them authorized, not ack them as
unauthorized. An uninstall seen by whichever node revokes it on both."""
import os

from daemon_support import json_lines
from oauth_support import OAuthDaemon, install, wait


def node(tmp_path, name, sim, processes, nats_url):
    folder = tmp_path / name
    folder.mkdir()
    cluster = f"""cluster:
  nats: [{nats_url}]
  node: {name}
  lease_time: 3s
"""
    return OAuthDaemon(folder, sim, processes, extra_sinks=cluster, env_extra={"SOCKEYE_LOG_LEVEL": "info"})


def authorized(daemon, installation):
    return [line for line in json_lines(daemon.events) if line.get("installation") == installation]


def test_an_install_on_one_node_authorizes_its_events_on_every_node(tmp_path, processes, sim, nats):
    server = nats()
    a = node(tmp_path, "node-a", sim, processes, server.url)
    b = node(tmp_path, "node-b", sim, processes, server.url)
    # Each node holds one of the app's two connections.
    wait(lambda: len(sim.live_connections()) >= 2, 30, "a connection from each node")

    status, body = install(a, "T0SIM0002")
    assert status == 200, body
    # B's own store file gains it (its CLI reads that file), without B seeing the install.
    wait(lambda: any(i["id"] == "T0SIM0002" and i["state"] == "active" for i in b.listed()), 30, "the installation in B's store")

    sim.admin("oauth/inject", {"team": "T0SIM0002", "kind": "message", "count": 40})
    wait(lambda: len(authorized(a, "T0SIM0002")) + len(authorized(b, "T0SIM0002")) >= 40, 30, "40 authorized events")
    assert authorized(a, "T0SIM0002"), "no event reached node A"
    assert authorized(b, "T0SIM0002"), "no event reached node B (the simulator spreads events over both nodes' connections)"
    assert a.metric("sockeyed_events_unauthorized_total", app="multi") == 0
    assert b.metric("sockeyed_events_unauthorized_total", app="multi") == 0

    # Slack uninstalls the app: its events reach one node or the other; both revoke.
    sim.admin("oauth/uninstall", {"installation": "T0SIM0002"})
    for daemon in (a, b):
        wait(lambda: any(i["id"] == "T0SIM0002" and i["state"] == "revoked" for i in daemon.listed("--all")), 10,
             "the revocation on both nodes")

    # No token reached NATS: the server's files (the bucket's stream) hold none of the
    # simulator's tokens.
    store_files = []
    for root, _, files in os.walk(server.store):
        store_files += [os.path.join(root, f) for f in files]
    assert store_files
    for path in store_files:
        with open(path, "rb") as f:
            data = f.read()
        assert b"xoxb-" not in data and b"xoxp-" not in data and b"xoxe-" not in data, path
