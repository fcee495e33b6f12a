import Foundation
import SockeyeDaemon
import SockeyeDemo
import Testing

/// The permission bits of the file at `path`, or nil when it does not exist.
private func permissionBits(_ path: String) -> mode_t? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return info.st_mode & 0o777
}

@Suite("sockeyed JSON-lines file sink and the demo's files", .serialized)
struct FileSinkTests {
    @Test("a new events file is created 0600")
    func fileMode() async throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let path = temporaryDirectory() + "/events.jsonl"
        let sink = try JSONLinesSink(name: "file", appendingTo: path)
        #expect(await sink.accept([ingressRecord()]).refused.isEmpty)
        #expect(permissionBits(path) == 0o600, "\(permissionBits(path).map { String($0, radix: 8) } ?? "missing")")
        await sink.close()
    }

    @Test("the demo writes into a new private directory (0700, a name no one can guess) and its file is 0600")
    func demoFiles() async throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let parent = temporaryDirectory()
        let first = try Demo(rate: 10, seconds: 2, parentDirectory: parent)
        defer { first.simulator.stop() }
        let second = try Demo(rate: 10, seconds: 2, parentDirectory: parent)
        defer { second.simulator.stop() }
        #expect(first.directory != second.directory)
        #expect(first.directory.hasPrefix(parent + "/sockeyed-demo-") && !first.directory.hasSuffix("XXXXXX"))
        #expect(permissionBits(first.directory) == 0o700)
        #expect(first.outputPath.hasPrefix(first.directory + "/"))
        // The daemon opens its sinks when it is made: the file exists from then on.
        let daemon = try Daemon(configuration: first.configuration, logger: quietLogger)
        #expect(permissionBits(first.outputPath) == 0o600, "\(permissionBits(first.outputPath).map { String($0, radix: 8) } ?? "missing")")
        _ = daemon
        #expect(throws: (any Error).self) { try Demo(rate: 0, seconds: 2, parentDirectory: parent) }
        #expect(throws: (any Error).self) { try Demo(rate: 10, seconds: Int.max, parentDirectory: parent) }
    }

    @Test("a write cut short by a full disk leaves no partial line: the batch is refused whole and the next one starts on a line of its own",
          .enabled(if: getuid() == 0, "mounts a small tmpfs: needs root"))
    func partialWrite() async throws {
        let mountPoint = temporaryDirectory() + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=1m") == 0 else {
            Issue.record("mount tmpfs: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let path = mountPoint + "/events.jsonl"
        let sink = try JSONLinesSink(name: "file", appendingTo: path)
        #expect(await sink.accept((0..<5).map { ingressRecord(eventID: "Ev0FIRST\($0)") }).refused.isEmpty)
        let before = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
        #expect(before > 0)

        // Fill the file system, then free two pages: a batch of ~90 KB gets part of the way.
        let filler = mountPoint + "/filler"
        let descriptor = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(descriptor >= 0)
        var chunk = [UInt8](repeating: 0x55, count: 65_536)
        var filled = 0
        while chunk.count >= 512, filled < 4 << 20 {
            let written = write(descriptor, &chunk, chunk.count)
            if written > 0 { filled += written } else { chunk = Array(chunk.prefix(chunk.count / 2)) }
        }
        #expect(ftruncate(descriptor, off_t(max(0, filled - 8192))) == 0)
        close(descriptor)

        let big = (0..<200).map { ingressRecord(eventID: "Ev0SECOND\($0)") }
        let refused = await sink.accept(big)
        #expect(refused.refused.count == big.count, "\(refused)")
        #expect(refused.error?.contains("write failed") == true, "\(String(describing: refused.error))")
        let after = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
        #expect(after == before, "the refused batch left \(after - before) bytes")

        // Space returns: the next batch's lines are whole, none glued to a fragment.
        #expect(unlink(filler) == 0)
        #expect(await sink.accept((0..<3).map { ingressRecord(eventID: "Ev0THIRD\($0)") }).refused.isEmpty)
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 8, "\(lines.count) lines")
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["event_id"] != nil, "not a whole line: \(line.prefix(120))")
        }
        await sink.close()
    }
}
