import Logging
import SockeyeBridge
import SockeyeDaemon
import SockeyeJetStream
import SockeyeSinkKit
import SockeyeSpool

/// Opens the kinds of sink that live outside the daemon's module (spool, forwarder,
/// jetstream), for `sockeyed run` and `sockeyed send-test-event` alike.
func sinkMaker(for configuration: DaemonConfiguration, logger: Logger) -> Daemon.SinkMaker {
    { name, settings in
        switch settings {
        case .spool(let spool): return try SpoolSink(name: name, settings: spool, logger: logger)
        case .http(let forward): return HTTPForwarderSink(name: name, settings: forward, logger: logger)
        case .jetstream(let jetStream):
            // The loader refuses a jetstream sink without a `cluster:` block.
            guard let cluster = configuration.cluster else { return nil }
            return try JetStreamSink(name: name, settings: jetStream, cluster: cluster, logger: logger)
        default: return nil
        }
    }
}
