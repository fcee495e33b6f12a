"""A listener sockeyed cannot bind stops it: with the operations (or public) listener's address
already taken by another socket, `sockeyed run` exits with status 1 and says which listener and
address, instead of running on without it."""
import os
import socket

import pytest

from bridge_support import file_sink, free_port, sockeyed_config, start_sockeyed


@pytest.mark.parametrize("taken", ["operations", "public"])
def test_a_listener_that_cannot_bind_stops_the_daemon(tmp_path, processes, start_sim, taken):
    sim = start_sim()
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        busy = holder.getsockname()[1]
        ops_port = busy if taken == "operations" else free_port()
        public_port = busy if taken == "public" else free_port()
        config = sockeyed_config(os.path.join(str(tmp_path), "sockeyed.yaml"), sim.api, "both",
                                 file_sink("out", os.path.join(str(tmp_path), "events.jsonl")), ["out"], ops_port,
                                 public_port=public_port)
        daemon = start_sockeyed(processes, config)
        code = daemon.wait(60)
        assert code == 1, f"sockeyed exit {code}: {daemon.err[-20:]}"
        said = "\n".join(daemon.err)
        assert f"{taken} listener: cannot listen on 127.0.0.1:{busy}" in said, said
    finally:
        holder.close()
