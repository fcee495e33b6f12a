import Testing

@testable import SockeyeJetStream

/// What the sink does to a stream, decided from the wanted and existing settings alone.
@Suite("StreamPlan: create, keep, update, conflict")
struct StreamPlanTests {
    private let wanted = StreamSpec(name: "SLACK", subjects: ["slack.>"], maxAgeNanoseconds: 604_800_000_000_000, maxBytes: -1,
                                    duplicateWindowNanoseconds: 900_000_000_000, replicas: 3, fileStorage: true)

    @Test("no stream: create it as wanted")
    func create() {
        #expect(StreamPlan.plan(wanted: wanted, existing: nil) == .create(wanted))
    }

    @Test("a stream as wanted is kept")
    func keep() {
        #expect(StreamPlan.plan(wanted: wanted, existing: wanted) == .keep)
    }

    @Test("limits follow the configuration; our subject is added and none removed")
    func update() {
        var existing = wanted
        existing.subjects = ["audit.>"]
        existing.duplicateWindowNanoseconds = 120_000_000_000
        existing.maxBytes = 1 << 30
        existing.replicas = 1
        var expected = wanted
        expected.subjects = ["audit.>", "slack.>"]
        #expect(StreamPlan.plan(wanted: wanted, existing: existing)
                == .update(expected, changes: ["subjects", "max_size", "duplicate_window", "replicas"]))
    }

    @Test("a memory stream is a conflict, not changed")
    func memoryStreamConflicts() {
        var existing = wanted
        existing.fileStorage = false
        guard case .conflict(let reason) = StreamPlan.plan(wanted: wanted, existing: existing) else {
            Issue.record("expected a conflict")
            return
        }
        #expect(reason.contains("memory"))
    }
}
