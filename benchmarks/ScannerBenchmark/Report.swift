import Foundation

/// One fixture's measurements, with what it is.
struct FixtureReport {
    let name: String
    let bytes: Int
    let summary: String
    let cells: [CellResult]

    func cell(_ competitor: String) -> CellResult? { cells.first { $0.competitor == competitor } }

    /// Scanner throughput divided by the competitor's (best rounds of both), if both ran.
    func scannerRatio(over competitor: String) -> Double? {
        guard let scanner = cell(Competitor.scannerName), let other = cell(competitor) else { return nil }
        return other.bestNanoseconds / scanner.bestNanoseconds
    }

    /// The 1 GB/s target is set for the ~1 KB and ~10 KB envelopes.
    var throughputTargetApplies: Bool { (750..<16_384).contains(bytes) }
}

/// The printed tables.
enum Report {
    static func fixtureTable(_ report: FixtureReport) -> String {
        var lines = [
            "",
            "\(report.name) — \(formatBytes(report.bytes)): \(report.summary)",
            row(["parser", "ns/env", "MB/s", "envelopes/s", "allocs/env", "scanner ×", "spread"], firstWidth: 30),
        ]
        lines.append(String(repeating: "-", count: lines[2].count))
        for cell in report.cells {
            let ratio = report.scannerRatio(over: cell.competitor).map { String(format: "%.2f×", $0) } ?? "—"
            lines.append(row([
                cell.competitor,
                String(format: "%.0f", cell.bestNanoseconds),
                String(format: "%.0f", cell.megabytesPerSecond),
                grouped(Int(cell.envelopesPerSecond.rounded())),
                String(format: "%.2f", cell.allocationsPerEnvelope),
                ratio,
                String(format: "%.0f%%", cell.spread * 100),
            ], firstWidth: 30))
        }
        return lines.joined(separator: "\n")
    }

    static func targetsTable(_ reports: [FixtureReport]) -> String {
        let header = row(
            ["fixture", "scanner MB/s", "÷ jansson", "÷ JSONSer.", "÷ on-demand", "÷ DOM", "allocs/env"],
            firstWidth: 30)
        var lines = [
            "",
            "Targets: scanner ÷ competitor = how many times faster the scanner is (best rounds).",
            header,
            row(["target", "≥ 1000 *", "≥ 5×", "≥ 20×", "≥ 0.50×", "—", "0"], firstWidth: 30),
            String(repeating: "-", count: header.count),
        ]
        for report in reports {
            guard let scanner = report.cell(Competitor.scannerName) else {
                lines.append(row([report.name, "scanner not built"], firstWidth: 30))
                continue
            }
            func ratio(_ name: String, target: Double?) -> String {
                guard let value = report.scannerRatio(over: name) else { return "—" }
                return String(format: "%.2f×", value) + mark(target.map { value >= $0 })
            }
            let throughput = String(format: "%.0f", scanner.megabytesPerSecond)
                + mark(report.throughputTargetApplies ? scanner.megabytesPerSecond >= 1000 : nil)
            lines.append(row([
                report.name,
                throughput,
                ratio(Competitor.janssonName, target: 5),
                ratio(Competitor.foundationName, target: 20),
                ratio(Competitor.onDemandName, target: 0.5),
                ratio(Competitor.domName, target: nil),
                String(format: "%.2f", scanner.allocationsPerEnvelope) + mark(scanner.allocationsPerEnvelope == 0),
            ], firstWidth: 30))
        }
        lines.append("""
            * the 1 GB/s target is set for the ~1 KB and ~10 KB envelopes. ok/below compare with \
            the targets; they are printed for reading, never enforced.
            """)
        return lines.joined(separator: "\n")
    }

    private static func mark(_ met: Bool?) -> String {
        switch met {
        case true?: " ok"
        case false?: " below"
        case nil: ""
        }
    }

    private static func row(_ columns: [String], firstWidth: Int = 30) -> String {
        var line = ""
        for (index, column) in columns.enumerated() {
            if index == 0 {
                line += column.padding(toLength: max(firstWidth, column.count), withPad: " ", startingAt: 0)
            } else {
                let width = 14
                line += String(repeating: " ", count: max(1, width - column.count)) + column
            }
        }
        return line
    }

    static func formatBytes(_ bytes: Int) -> String {
        bytes < 1024 ? "\(bytes) B" : String(format: "%.1f KB (%d B)", Double(bytes) / 1024, bytes)
    }

    private static func grouped(_ value: Int) -> String {
        var digits = Array(String(value))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }
}

/// The optional machine-readable result (`--json PATH`).
struct JSONResult: Encodable {
    struct Parser: Encodable {
        let parser: String
        let detail: String
        let iterationsPerRound: Int
        let roundNanosecondsPerEnvelope: [Double]
        let bestNanosecondsPerEnvelope: Double
        let medianNanosecondsPerEnvelope: Double
        let megabytesPerSecond: Double
        let envelopesPerSecond: Double
        let allocationsPerEnvelope: Double
        let scannerSpeedup: Double?
    }
    struct Fixture: Encodable {
        let name: String
        let bytes: Int
        let summary: String
        let parsers: [Parser]
    }
    let benchmark = "scanner-bench"
    let mode: String
    let rounds: Int
    let roundSeconds: Double
    let date: String
    let simdjsonImplementation: String
    let simdjsonBuiltinImplementation: String
    let fixtures: [Fixture]

    init(
        mode: String, settings: MeasurementSettings, reports: [FixtureReport], competitors: [Competitor]
    ) {
        self.mode = mode
        rounds = settings.rounds
        roundSeconds = settings.roundSeconds
        date = ISO8601DateFormatter().string(from: Date())
        simdjsonImplementation = SimdjsonParsers.implementation
        simdjsonBuiltinImplementation = SimdjsonParsers.builtinImplementation
        fixtures = reports.map { report in
            Fixture(
                name: report.name, bytes: report.bytes, summary: report.summary,
                parsers: report.cells.map { cell in
                    Parser(
                        parser: cell.competitor,
                        detail: competitors.first { $0.name == cell.competitor }?.detail ?? "",
                        iterationsPerRound: cell.iterationsPerRound,
                        roundNanosecondsPerEnvelope: cell.roundNanoseconds,
                        bestNanosecondsPerEnvelope: cell.bestNanoseconds,
                        medianNanosecondsPerEnvelope: cell.medianNanoseconds,
                        megabytesPerSecond: cell.megabytesPerSecond,
                        envelopesPerSecond: cell.envelopesPerSecond,
                        allocationsPerEnvelope: cell.allocationsPerEnvelope,
                        scannerSpeedup: report.scannerRatio(over: cell.competitor))
                })
        }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
