import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SockeyeSinkKit
import Testing
@testable import SockeyeOperations

/// The status page's charts as SVG: well-formed XML, every point inside the view box, gaps
/// breaking the line, no value able to write NaN or infinity, escaped text; and the page and
/// `/status.json` carrying them.
@Suite("status page: history charts")
struct HistoryChartTests {
    /// The SVG's elements (name, attributes) and its title's text, or the parser's error.
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [(String, [String: String])] = []
        var title = ""
        private var inTitle = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append((name, attributes))
            inTitle = name == "title"
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            inTitle = false
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inTitle { title += string }
        }
    }

    static func parse(_ svg: String) throws -> Collector {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse() else {
            throw ParseFailure(message: "\(parser.parserError.map { "\($0)" } ?? "?") in \(svg.prefix(600))")
        }
        return collector
    }

    struct ParseFailure: Error { let message: String }

    /// The absolute points a path visits (only the commands the chart writes: M l h H V Z),
    /// and how many subpaths it has.
    static func points(_ d: String) throws -> (points: [(Double, Double)], subpaths: Int) {
        var tokens: [String] = []
        var current = ""
        for character in d {
            if character.isLetter || character == "-" || character == " " {
                if !current.isEmpty { tokens.append(current) }
                current = character == " " ? "" : String(character)
                if character.isLetter {
                    tokens.append(current)
                    current = ""
                }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        var points: [(Double, Double)] = []
        var subpaths = 0
        var x = 0.0, y = 0.0
        var index = 0
        func number() throws -> Double {
            guard index < tokens.count, let value = Double(tokens[index]) else { throw ParseFailure(message: "bad number in \(d)") }
            index += 1
            return value
        }
        while index < tokens.count {
            let command = tokens[index]
            index += 1
            switch command {
            case "M": x = try number(); y = try number(); subpaths += 1
            case "l": x += try number(); y += try number()
            case "h": x += try number()
            case "H": x = try number()
            case "V": y = try number()
            case "Z": continue
            default: throw ParseFailure(message: "unexpected \(command) in \(d)")
            }
            points.append((x, y))
        }
        return (points, subpaths)
    }

    static func chart(_ values: [Double?], scale: HistoryChart.Scale = .linear(top: 10), style: HistoryChart.Style = .line,
                      title: String = "t") -> HistoryChart {
        HistoryChart(title: title, scale: scale, series: [.init(values: values, style: style, color: "#000", filled: true)],
                     rules: [.init(value: 3, label: "3 s", color: "#f00")], gridlines: [(1, "one")], note: "max", axis: ("a", "b", "c"))
    }

    /// Every path's points lie inside the view box; returns the line paths' subpath counts.
    @discardableResult
    static func checkInside(_ svg: String) throws -> [Int] {
        let parsed = try parse(svg)
        #expect(!svg.contains("nan") && !svg.contains("inf"), "\(svg)")
        var lines: [Int] = []
        for (name, attributes) in parsed.elements where name == "path" {
            let (points, subpaths) = try points(attributes["d"] ?? "")
            for (x, y) in points {
                #expect(x.isFinite && y.isFinite && x >= 0 && x <= Double(HistoryChart.width) && y >= 0
                        && y <= Double(HistoryChart.height), "(\(x), \(y)) in \(attributes["d"] ?? "")")
            }
            if attributes["fill"] == "none", attributes["stroke"] == "#000" { lines.append(subpaths) }
        }
        for (name, attributes) in parsed.elements where name == "text" {
            let x = Double(attributes["x"] ?? "") ?? -1, y = Double(attributes["y"] ?? "") ?? -1
            #expect(x >= 0 && x <= Double(HistoryChart.width) && y >= 0 && y <= Double(HistoryChart.height), "text at (\(x), \(y))")
        }
        return lines
    }

    @Test("an SVG is well-formed XML with its title, escaped, and its points inside the view box")
    func wellFormed() throws {
        let values: [Double?] = (0..<360).map { $0 % 50 == 7 ? nil : Double($0 % 13) }
        let name = "<app & \"co\">'s </svg><script>"
        let svg = Self.chart(values, title: "\(name): events").svg()
        let parsed = try Self.parse(svg)
        #expect(parsed.elements.first?.0 == "svg" && parsed.elements.first?.1["viewBox"] == "0 0 \(HistoryChart.width) \(HistoryChart.height)")
        #expect(parsed.title == "\(name): events")
        #expect(!svg.contains("<script>"))
        try Self.checkInside(svg)
        // Steps too.
        try Self.checkInside(Self.chart(values, style: .step).svg())
    }

    @Test("a gap breaks the line: one subpath per run of samples, none for a chart without one")
    func gaps() throws {
        #expect(try Self.checkInside(Self.chart([1, 2, nil, 3, 4]).svg()) == [2])
        #expect(try Self.checkInside(Self.chart([1, nil, nil, 2, nil, 3]).svg()) == [3])
        #expect(try Self.checkInside(Self.chart([nil, 5, 5, 5, 5, nil]).svg()) == [1])
        #expect(try Self.checkInside(Self.chart([1, 2, nil, 3, 4], style: .step).svg()) == [2])
        #expect(try Self.checkInside(Self.chart([nil, nil, nil]).svg()) == [])
        #expect(try Self.checkInside(Self.chart([]).svg()) == [])
        // A sample alone is drawn across its interval (a visible tick, not an empty move).
        let alone = try Self.points(try #require(try Self.parse(Self.chart([nil, 4, nil, nil]).svg()).elements
            .first { $0.0 == "path" && $0.1["fill"] == "none" && $0.1["stroke"] == "#000" }?.1["d"]))
        #expect(alone.points.count == 2 && alone.points[0].0 == 90 && alone.points[1].0 == 180)
        #expect(alone.points[0].1 == alone.points[1].1)
        // The last sample ends at the right edge ("now").
        let full = try Self.points(try #require(try Self.parse(Self.chart([1, 2, 3]).svg()).elements
            .first { $0.0 == "path" && $0.1["fill"] == "none" && $0.1["stroke"] == "#000" }?.1["d"]))
        #expect(full.points.last?.0 == Double(HistoryChart.width))
    }

    @Test("extreme values, and scales made of them, put no NaN or infinity in a coordinate and no point outside")
    func extremes() throws {
        let values: [Double?] = [.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0, -1,
                                 .leastNonzeroMagnitude, 1e-300, nil, 5, 1e300]
        let scales: [HistoryChart.Scale] = [
            .linear(top: 10), .linear(top: 0), .linear(top: -3), .linear(top: .nan), .linear(top: .infinity),
            .linear(top: .leastNonzeroMagnitude), .logarithmic(bottom: 1e-4, top: 10), .logarithmic(bottom: 0, top: 10),
            .logarithmic(bottom: 10, top: 1), .logarithmic(bottom: .nan, top: .infinity), .logarithmic(bottom: .leastNonzeroMagnitude, top: 1e308),
        ]
        for scale in scales {
            for style in [HistoryChart.Style.line, .step] {
                try Self.checkInside(Self.chart(values, scale: scale, style: style).svg())
            }
        }
        // Many more samples than pixels, and a single one.
        try Self.checkInside(Self.chart((0..<5_000).map { Double($0) }).svg())
        try Self.checkInside(Self.chart([7]).svg())
    }

    @Test("tenths of a pixel are written without a sign error or trailing zero")
    func decimals() {
        #expect(HistoryChart.decimal(125) == "12.5" && HistoryChart.decimal(120) == "12" && HistoryChart.decimal(0) == "0")
        #expect(HistoryChart.decimal(-4) == "-.4" && HistoryChart.decimal(4) == ".4" && HistoryChart.decimal(-120) == "-12")
        #expect(HistoryChart.signed(5) == " .5" && HistoryChart.signed(-5) == "-.5")
    }

    struct Host: OperationsHost {
        let apps: [AppSnapshot]
        var sinks: [String: any EventSink] { [:] }
        func appSnapshots() -> [AppSnapshot] { apps }
        func ingressRoute(_ path: String) -> IngressRoute? { nil }
    }

    /// An app whose history has a sample every interval but a gap of 30 and none before 100.
    static func app(_ name: String) -> AppSnapshot {
        var app = AppSnapshot(name: name, state: .running(live: 2, target: 2), ready: true, liveConnections: 2, targetConnections: 2,
                              eventsPerSecond: 301)
        let samples: [AppHistory.Sample?] = (0..<360).map { (index: Int) -> AppHistory.Sample? in
            if index < 100 || (200..<230).contains(index) { return nil }
            let p99: Int64? = index % 2 == 0 ? 1_048_576 : nil
            return AppHistory.Sample(eventsPerSecond: Double(index), ackP99Nanoseconds: p99, liveConnections: 2, wantedConnections: 2)
        }
        app.history = AppHistory(intervalMilliseconds: 10_000, endMilliseconds: 1_700_000_000_000, samples: samples)
        return app
    }

    @Test("the page charts each app (three SVGs with their titles, the last hour on the axis); status.json has arrays with nulls")
    func page() throws {
        let page = StatusPage(host: Host(apps: [Self.app("alpha"), Self.app("<b>eta")]))
        let html = page.html()
        #expect(html.contains("<h2>last 60 min</h2>"))
        for name in ["alpha", "&lt;b&gt;eta"] {
            for title in ["\(name): events per second", "\(name): ack latency p99", "\(name): live connections"] {
                #expect(html.contains("<title>\(title)"), "\(title)")
            }
        }
        #expect(!html.contains("<b>eta"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 6)
        #expect(html.contains(">−60 min<") && html.contains(">−30 min<") && html.contains(">now<"))
        // Each SVG on the page is one well-formed document.
        for piece in html.components(separatedBy: "<svg ").dropFirst() {
            let svg = "<svg " + piece.components(separatedBy: "</svg>")[0] + "</svg>"
            try Self.checkInside(svg)
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(page.json().utf8)) as? [String: Any])
        let apps = try #require(object["apps"] as? [[String: Any]])
        let history = try #require(apps[0]["history"] as? [String: Any])
        #expect(history["interval_seconds"] as? Double == 10)
        let timestamps = try #require(history["timestamps"] as? [Double])
        // From the first sample (index 100) to the newest, which ended at the history's end.
        #expect(timestamps.count == 260 && timestamps.last == 1_700_000_000 && timestamps.first == 1_700_000_000 - 259 * 10)
        let rates = try #require(history["events_per_second"] as? [Any])
        let p99 = try #require(history["ack_p99_seconds"] as? [Any])
        let live = try #require(history["connections_live"] as? [Any])
        let wanted = try #require(history["connections_wanted"] as? [Any])
        #expect(rates.count == 260 && p99.count == 260 && live.count == 260 && wanted.count == 260)
        #expect(rates[0] as? Double == 100 && rates[259] as? Double == 359)
        #expect(rates[100] is NSNull && live[129] is NSNull && !(rates[130] is NSNull))  // the gap: nulls, not zeros
        #expect(p99[0] as? Double == 0.001048576 && p99[1] is NSNull)
        #expect(live[0] as? Int == 2 && wanted[0] as? Int == 2)
    }

    @Test("with many apps only the first 20 are charted, and the page says where the rest are")
    func manyApps() {
        let html = StatusPage(host: Host(apps: (0..<100).map { Self.app("app\($0)") })).html()
        #expect(html.components(separatedBy: "<svg ").count - 1 == 3 * StatusPage.chartedApps)
        #expect(html.contains("Charts for the first 20 apps of 100"))
        // A few KB per charted app.
        #expect(html.utf8.count < 20 * 12_000 + 60_000, "\(html.utf8.count) bytes")
    }
}
