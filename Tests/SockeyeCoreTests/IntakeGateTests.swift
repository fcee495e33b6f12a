import SockeyeCore
import Testing

@Suite("IntakeGate: when reading stops and resumes")
struct IntakeGateTests {
    @Test("reading stops at the limit, once, and resumes below half of it")
    func stopsAndResumes() {
        var gate = IntakeGate(limit: 10)
        var stops = 0
        for _ in 0..<9 where gate.handedOver() { stops += 1 }
        #expect(stops == 0 && !gate.paused)
        let stop = gate.handedOver()
        #expect(stop && gate.paused)
        // What was already read still comes: no second stop.
        let again = gate.handedOver()
        #expect(!again)
        #expect(gate.depth == 11 && gate.peakDepth == 11)
        var resumedAt: [Int] = []
        for _ in 0..<11 where gate.taken() { resumedAt.append(gate.depth) }
        #expect(resumedAt == [4])
        #expect(!gate.paused && gate.pauses == 1)
    }

    @Test("out-of-range limits and extra takes cannot trap or go negative")
    func ranges() {
        var gate = IntakeGate(limit: 0)
        #expect(gate.limit == 1 && gate.resumeBelow == 1)
        let early = gate.taken()
        #expect(!early && gate.depth == 0)
        let stop = gate.handedOver()
        let resume = gate.taken()
        #expect(stop && resume)
        #expect(IntakeGate(limit: .max).resumeBelow == Int.max / 2)
        #expect(IntakeGate(limit: .min).limit == 1)
    }
}
