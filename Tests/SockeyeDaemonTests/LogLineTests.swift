import Foundation
import Logging
import SockeyeDaemon
import Testing

/// The daemon's log lines: `json` lines are one valid JSON object per line whatever the
/// message and fields hold, `text` lines stay one line, journal priorities prefix both, and
/// lines written from many threads at once do not interleave.
@Suite("sockeyed log lines: JSON and text formats, journal priorities, whole lines")
struct LogLineTests {
    /// Strings that break naive JSON or line-based logging.
    static let hostile: [String] = [
        #"a "quoted" word and a \ backslash"#,
        "two\nlines\r\nand a carriage return\r",
        "NUL \u{0} bell \u{7} escape \u{1B}[31m DEL \u{7F} tab\tend",
        "line separators \u{2028} and \u{2029}",
        "emoji 🐟 and combining e\u{301} and CJK 鮭",
        String(decoding: [0x61, 0xFF, 0xFE, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0x62], as: UTF8.self),  // not UTF-8, as Slack might send it
        #"{"time":"forged","level":"critical"}"# + "\n{\"injected\":true}",
        "",
    ]

    static func content(_ message: String, fields: Logger.Metadata = [:], level: Logger.Level = .info) -> LogLine.Content {
        LogLine.Content(level: level, label: "sockeyed", source: "SockeyeDaemon", message: message, fields: fields)
    }

    /// The line's bytes less its final newline, which must be the only line break.
    static func singleLine(_ bytes: [UInt8]) throws -> [UInt8] {
        #expect(bytes.last == 0x0A)
        let body = Array(bytes.dropLast())
        #expect(!body.contains(0x0A) && !body.contains(0x0D), "a line break inside: \(String(decoding: bytes, as: UTF8.self))")
        return body
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        let body = try singleLine(bytes)
        let parsed = try JSONSerialization.jsonObject(with: Data(body))
        return try #require(parsed as? [String: Any], "not an object: \(String(decoding: body, as: UTF8.self))")
    }

    @Test("a JSON line carries time, level, logger, source and message; hostile messages come back unchanged on one line")
    func hostileMessages() throws {
        for message in Self.hostile {
            let line = LogLine.render(Self.content(message, fields: ["note": .string(message)], level: .warning),
                                      format: .json, time: "2026-12-06T03:04:31.042Z", journalPriority: false)
            let object = try Self.object(line)
            #expect(object["time"] as? String == "2026-12-06T03:04:31.042Z")
            #expect(object["level"] as? String == "warning")
            #expect(object["logger"] as? String == "sockeyed")
            #expect(object["source"] as? String == "SockeyeDaemon")
            #expect(object["message"] as? String == message)
            #expect((object["fields"] as? [String: Any])?["note"] as? String == message)
            #expect(Set(object.keys) == ["time", "level", "logger", "source", "message", "fields"])
        }
    }

    @Test("fields sit under `fields`: one named time, level or message cannot replace the line's own")
    func envelopeKept() throws {
        let fields: Logger.Metadata = ["time": "1999", "level": "critical", "message": "forged", "app": "support-bot"]
        let object = try Self.object(LogLine.render(Self.content("connection lost", fields: fields), format: .json,
                                                    time: "2026-12-06T03:04:31.042Z", journalPriority: false))
        #expect(object["time"] as? String == "2026-12-06T03:04:31.042Z")
        #expect(object["level"] as? String == "info")
        #expect(object["message"] as? String == "connection lost")
        let nested = try #require(object["fields"] as? [String: Any])
        #expect(nested["time"] as? String == "1999" && nested["level"] as? String == "critical")
        #expect(nested["message"] as? String == "forged" && nested["app"] as? String == "support-bot")
    }

    @Test("strings stay strings; integers, finite numbers and Booleans become JSON values; lists and dictionaries nest")
    func fieldValues() throws {
        let fields: Logger.Metadata = [
            "port": "8080", "count": .stringConvertible(42), "ratio": .stringConvertible(0.25), "ok": .stringConvertible(true),
            "nan": .stringConvertible(Double.nan), "hosts": ["a", "b\n"], "nested": ["inner": .stringConvertible(-7)],
        ]
        let object = try Self.object(LogLine.render(Self.content("figures", fields: fields), format: .json, time: "t", journalPriority: false))
        let nested = try #require(object["fields"] as? [String: Any])
        #expect(nested["port"] as? String == "8080")
        #expect((nested["count"] as? NSNumber)?.intValue == 42 && !(nested["count"] is String))
        #expect((nested["ratio"] as? NSNumber)?.doubleValue == 0.25)
        #expect(nested["ok"] as? Bool == true)
        #expect(nested["nan"] as? String == "nan")
        #expect(nested["hosts"] as? [String] == ["a", "b\n"])
        #expect(((nested["nested"] as? [String: Any])?["inner"] as? NSNumber)?.intValue == -7)
    }

    @Test("a line without metadata has no `fields`")
    func noFields() throws {
        let object = try Self.object(LogLine.render(Self.content("stopped"), format: .json, time: "t", journalPriority: false))
        #expect(object["fields"] == nil)
    }

    @Test("random strings of any scalars, control characters included, always make one valid JSON line that round-trips")
    func randomStrings() throws {
        var random = SeededGenerator(seed: 0x5EED)  // ArbitraryInputTests.swift
        let pool: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x2000...0x202F, 0xE000...0xFFFD, 0x1F300...0x1F64F]
        for _ in 0..<500 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int(random.next() % 40) {
                let range = pool[Int(random.next() % UInt64(pool.count))]
                let value = range.lowerBound + UInt32(random.next() % UInt64(range.count))
                if let scalar = Unicode.Scalar(value) { text.append(scalar) }
            }
            let message = String(text)
            let object = try Self.object(LogLine.render(Self.content(message, fields: [message: .string(message)]), format: .json,
                                                        time: "t", journalPriority: false))
            #expect(object["message"] as? String == message)
            #expect((object["fields"] as? [String: String])?[message] == message)
        }
    }

    @Test("a text line reads TIME LEVEL LABEL: key=value [SOURCE] message, on one line")
    func textLine() throws {
        let fields: Logger.Metadata = ["reason": "silence", "app": "support-bot"]
        let line = LogLine.render(Self.content("connection\nlost", fields: fields, level: .warning), format: .text,
                                  time: "2026-12-06T03:04:31+0000", journalPriority: false)
        let body = try Self.singleLine(line)
        #expect(String(decoding: body, as: UTF8.self)
            == #"2026-12-06T03:04:31+0000 warning sockeyed: app=support-bot reason=silence [SockeyeDaemon] connection\nlost"#)
    }

    @Test("with journal priorities each line starts with <N>: trace and debug 7 … critical 2, in both formats")
    func journalPriorities() throws {
        let expected: [(Logger.Level, String)] = [(.trace, "<7>"), (.debug, "<7>"), (.info, "<6>"), (.notice, "<5>"),
                                                  (.warning, "<4>"), (.error, "<3>"), (.critical, "<2>")]
        for (level, prefix) in expected {
            for format in LogFormat.allCases {
                let line = String(decoding: LogLine.render(Self.content("m", level: level), format: format, time: "t", journalPriority: true),
                                  as: UTF8.self)
                #expect(line.hasPrefix(prefix + (format == .json ? "{" : "t ")), "\(line)")
            }
            let plain = String(decoding: LogLine.render(Self.content("m", level: level), format: .json, time: "t", journalPriority: false),
                               as: UTF8.self)
            #expect(plain.hasPrefix("{"))
        }
    }

    @Test("JSON times are RFC 3339 UTC with milliseconds")
    func timestamps() {
        #expect(LogTimestamp.utcMilliseconds(seconds: 0, nanoseconds: 5_999_999) == "1970-01-01T00:00:00.005Z")
        #expect(LogTimestamp.utcMilliseconds(seconds: 1_700_000_000, nanoseconds: 123_456_789) == "2023-11-14T22:13:20.123Z")
        let now = LogTimestamp.utcMilliseconds()
        #expect(now.count == 24 && now.hasSuffix("Z") && now.dropFirst(10).hasPrefix("T"), "\(now)")
    }

    @Test("JOURNAL_STREAM counts only when it names the descriptor's own file")
    func journalDetection() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
        let descriptor = open(path, O_CREAT | O_WRONLY, 0o600)
        try #require(descriptor >= 0)
        defer { close(descriptor); unlink(path) }
        var status = stat()
        try #require(fstat(descriptor, &status) == 0)
        let mine = "\(status.st_dev):\(status.st_ino)"
        #expect(JournalStream.isJournal(descriptor: descriptor, environment: ["JOURNAL_STREAM": mine]))
        #expect(!JournalStream.isJournal(descriptor: descriptor, environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]))
        #expect(!JournalStream.isJournal(descriptor: descriptor, environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!JournalStream.isJournal(descriptor: descriptor, environment: [:]))
    }

    @Test("lines logged from many threads at once into a pipe come out whole, each a JSON object with its fields")
    func wholeLinesAcrossThreads() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        // The smallest pipe (one page, F_SETPIPE_SZ = 1031): every line fills it, so a writer
        // blocks in the middle of each line and, without the lock, another one's bytes come in between.
        _ = fcntl(writeEnd, 1031, 4096)
        // The reader drains the pipe until every writer is done (the write end closed).
        let received = Received()
        let done = DispatchSemaphore(value: 0)
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while case let count = read(readEnd, &buffer, buffer.count), count > 0 {
                received.data.append(contentsOf: buffer[..<count])
            }
            done.signal()
        }.start()
        let output = LogOutput(descriptor: writeEnd)
        let threads = 8, perThread = 200
        // Lines longer than a pipe's atomic write (4 KiB): only the lock keeps them whole.
        let filler = String(repeating: "x", count: 20_000)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var handler = DaemonLogHandler(label: "sockeyed", destination: LogDestination(format: .json, journalPriorities: false),
                                           output: output)
            handler.logLevel = .debug
            let logger = Logger(label: "sockeyed") { _ in handler }
            for index in 0..<perThread {
                logger.info("line \(index)\n\(filler)", metadata: ["thread": "\(thread)", "index": .stringConvertible(index)])
            }
        }
        close(writeEnd)
        done.wait()
        close(readEnd)
        let data = received.data  // the reader is done: the semaphore orders its writes before this read
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        #expect(lines.count == threads * perThread + 1 && lines.last?.isEmpty == true)
        var seen = Set<String>()
        for line in lines.dropLast() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let fields = try #require(object["fields"] as? [String: Any])
            #expect(object["level"] as? String == "info")
            seen.insert("\(fields["thread"] as? String ?? "?")/\((fields["index"] as? NSNumber)?.intValue ?? -1)")
        }
        #expect(seen.count == threads * perThread)
    }

    @Test("the handler merges the logger's metadata, the call's and an error's, the call's winning")
    func handlerMetadata() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        try #require(descriptor >= 0)
        defer { unlink(path) }
        let output = LogOutput(descriptor: descriptor)
        var logger = Logger(label: "sockeyed") { label in
            DaemonLogHandler(label: label, destination: LogDestination(format: .json, journalPriorities: true), output: output)
        }
        logger[metadataKey: "app"] = "support-bot"
        logger[metadataKey: "connection"] = "conn#1"
        logger.debug("below the level: not written")
        logger.warning("connection lost", error: Refused(), metadata: ["connection": "conn#3", "reason": "silence"])
        close(descriptor)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("<4>{") && text.hasSuffix("}\n") && text.split(separator: "\n").count == 1, "\(text)")
        let object = try Self.object(Array(text.utf8.dropFirst(3)))
        #expect(object["message"] as? String == "connection lost" && object["level"] as? String == "warning")
        let fields = try #require(object["fields"] as? [String: String])
        #expect(fields["app"] == "support-bot" && fields["connection"] == "conn#3" && fields["reason"] == "silence")
        #expect(fields["error.message"] == "disk full\non /var" && fields["error.type"]?.hasSuffix("Refused") == true, "\(fields)")
        #expect(fields.count == 5)
    }
}

/// An error whose description spans two lines.
private struct Refused: Error, CustomStringConvertible {
    var description: String { "disk full\non /var" }
}

/// What the pipe's reader thread collected; read only after the reader signalled it is done.
private final class Received: @unchecked Sendable {
    var data = Data()
}
