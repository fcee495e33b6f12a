import Logging
import SockeyeDaemon
import SockeyeSinkKit
import SockeyeSpool
import Testing

@Suite("spool depth")
struct SpoolDepthTests {
    @Test("the depth counts the events stored (not the duplicates refused), from the file's existing rows on")
    func depth() async throws {
        let folder = temporaryDirectory()
        let settings = SpoolSettings(path: folder + "/depth.db")
        let first = try SpoolSink(name: "depth", settings: settings, logger: Logger(label: "test"))
        #expect(first.depth == 0)
        #expect(await first.acceptRows((0..<10).map { row($0) }) == nil)
        #expect(await first.acceptRows((5..<15).map { row($0) }) == nil)  // five of them again
        #expect(first.depth == 15)
        await first.close()
        // A new sink on the same file starts from what is there.
        let second = try SpoolSink(name: "depth", settings: settings, logger: Logger(label: "test"))
        #expect(second.depth == 15)
        await second.close()
    }
}
