import Foundation

/// One small chart of an app's history as inline SVG, built server-side: no script, no
/// external resource, a `<title>` for screen readers, every text escaped. The samples span
/// the width (the newest ends at the right edge, "now"); nil values break the line (a gap
/// where the app took no sample, never a drop to zero). Coordinates are computed in tenths
/// of a pixel from clamped fractions, so no value (huge, negative, infinite, NaN) can put a
/// point outside the view box or write `nan` into a path.
struct HistoryChart {
    /// The view box, in CSS pixels (the SVG is drawn at this size): a strip for the top
    /// note, the plot, a strip for the time axis.
    static let width = 360
    static let height = 82
    static let plotTop = 12
    static let plotHeight = 56
    static var plotBottom: Int { plotTop + plotHeight }

    /// How a value maps to the plot's height.
    enum Scale {
        /// 0 at the bottom, `top` at the top (values above are drawn at the top).
        case linear(top: Double)
        /// Logarithmic from `bottom` to `top` (both above 0; values outside are clamped).
        case logarithmic(bottom: Double, top: Double)

        /// Where `value` falls, from 0 (bottom) to 1 (top); nil for NaN (drawn as a gap).
        func fraction(_ value: Double) -> Double? {
            if value.isNaN { return nil }
            let raw: Double
            switch self {
            case .linear(let top):
                raw = top > 0 && top.isFinite ? value / top : (value > 0 ? 1 : 0)
            case .logarithmic(let bottom, let top):
                guard bottom > 0, top > bottom, top.isFinite else { return value > 0 ? 1 : 0 }
                raw = value > 0 ? (log10(min(value, top)) - log10(bottom)) / (log10(top) - log10(bottom)) : 0
            }
            return raw.isNaN ? 0 : min(1, max(0, raw))
        }
    }

    /// How a series is drawn.
    enum Style {
        /// A line through the samples (each at its interval's end).
        case line
        /// Steps: each sample's value held across its interval.
        case step
    }

    struct Series {
        var values: [Double?]
        var style: Style
        /// A CSS colour (ours, never user input).
        var color: String
        /// The area under the line filled.
        var filled = false
        var dashed = false
    }

    /// A horizontal reference line across the plot, labelled at its right end.
    struct Rule {
        var value: Double
        var label: String
        var color: String
    }

    /// Read by screen readers and shown as a tooltip.
    var title: String
    var scale: Scale
    var series: [Series]
    var rules: [Rule] = []
    /// Faint lines at these values, labelled at their left end (unless the label is empty).
    var gridlines: [(value: Double, label: String)] = []
    /// Small text at the top left (the maximum, say).
    var note: String?
    /// The time axis: left, middle and right labels.
    var axis: (String, String, String)

    /// The `<svg>` element.
    func svg() -> String {
        let w = Self.width, h = Self.height
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(w)\" height=\"\(h)\" "
            + "viewBox=\"0 0 \(w) \(h)\" role=\"img\" font-size=\"10\" font-family=\"system-ui, sans-serif\">"
        out += "<title>\(escape(title))</title>"
        out += "<rect x=\"0\" y=\"\(Self.plotTop)\" width=\"\(w)\" height=\"\(Self.plotHeight)\" fill=\"#f6f6f8\"/>"
        for line in gridlines {
            guard let y = y(line.value) else { continue }
            out += "<path d=\"M0 \(Self.decimal(y))H\(w)\" stroke=\"#dedee3\" stroke-width=\"1\"/>"
        }
        for series in series {
            out += paths(series)
        }
        // Over the data, with a halo in the plot's colour so they stay readable.
        for line in gridlines where !line.label.isEmpty {
            guard let y = y(line.value) else { continue }
            out += "<text x=\"2\" y=\"\(Self.decimal(y - 15))\" fill=\"#888\" font-size=\"8\" stroke=\"#f6f6f8\" stroke-width=\"2.5\" "
                + "paint-order=\"stroke\">\(escape(line.label))</text>"
        }
        for rule in rules {
            guard let y = y(rule.value) else { continue }
            out += "<path d=\"M0 \(Self.decimal(y))H\(w)\" stroke=\"\(rule.color)\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>"
            // Above the line, or below it when the line is at the top of the plot.
            let labelY = y - 30 >= (Self.plotTop + 8) * 10 ? y - 30 : y + 95
            out += "<text x=\"\(w - 2)\" y=\"\(Self.decimal(labelY))\" fill=\"\(rule.color)\" text-anchor=\"end\">\(escape(rule.label))</text>"
        }
        if let note {
            out += "<text x=\"1\" y=\"9\" fill=\"#555\">\(escape(note))</text>"
        }
        let axisY = h - 3
        out += "<text x=\"0\" y=\"\(axisY)\" fill=\"#777\">\(escape(axis.0))</text>"
        out += "<text x=\"\(w / 2)\" y=\"\(axisY)\" fill=\"#777\" text-anchor=\"middle\">\(escape(axis.1))</text>"
        out += "<text x=\"\(w)\" y=\"\(axisY)\" fill=\"#777\" text-anchor=\"end\">\(escape(axis.2))</text>"
        return out + "</svg>"
    }

    /// `value`'s height in tenths of a pixel from the top of the view box, or nil (a gap).
    func y(_ value: Double) -> Int? {
        scale.fraction(value).map { Int(((Double(Self.plotBottom) - $0 * Double(Self.plotHeight)) * 10).rounded()) }
    }

    /// The right edge of sample `index` of `count` (-1: the left edge of sample 0), in tenths
    /// of a pixel.
    static func x(_ index: Int, of count: Int) -> Int {
        count > 0 ? min(width * 10, max(0, (index + 1) * width * 10 / count)) : 0
    }

    /// The runs of consecutive samples with a value: (first index, heights in tenths).
    func runs(_ values: [Double?]) -> [(first: Int, heights: [Int])] {
        var runs: [(first: Int, heights: [Int])] = []
        var current: (first: Int, heights: [Int])?
        for (index, value) in values.enumerated() {
            if let value, let y = y(value) {
                if current == nil { current = (index, []) }
                current?.heights.append(y)
            } else if let run = current {
                runs.append(run)
                current = nil
            }
        }
        if let current { runs.append(current) }
        return runs
    }

    /// One run's outline: where it starts (tenths) and the path commands from there.
    func outline(_ run: (first: Int, heights: [Int]), count: Int, style: Style) -> (x: Int, y: Int, commands: String) {
        let left = Self.x(run.first - 1, of: count)
        var commands = ""
        switch style {
        case .line where run.heights.count > 1:
            var lastX = Self.x(run.first, of: count), lastY = run.heights[0]
            let start = (x: lastX, y: lastY)
            var flat = 0
            for (offset, height) in run.heights.enumerated().dropFirst() {
                let x = Self.x(run.first + offset, of: count)
                if height == lastY {
                    flat += x - lastX
                } else {
                    if flat > 0 { commands += "h\(Self.decimal(flat))" }
                    flat = 0
                    commands += "l\(Self.decimal(x - lastX))\(Self.signed(height - lastY))"
                }
                lastX = x
                lastY = height
            }
            if flat > 0 { commands += "h\(Self.decimal(flat))" }
            return (start.x, start.y, commands)
        case .line, .step:
            // Steps, and a sample alone on a line: held across its interval.
            var lastY = run.heights[0]
            for (offset, height) in run.heights.enumerated() where height != lastY {
                commands += "H\(Self.decimal(Self.x(run.first + offset - 1, of: count)))V\(Self.decimal(height))"
                lastY = height
            }
            commands += "H\(Self.decimal(Self.x(run.first + run.heights.count - 1, of: count)))"
            return (left, run.heights[0], commands)
        }
    }

    /// The `<path>` elements of one series (none when it has no value).
    func paths(_ series: Series) -> String {
        var line = "", fill = ""
        let bottom = Self.decimal(Self.plotBottom * 10)
        for run in runs(series.values) {
            let outline = outline(run, count: series.values.count, style: series.style)
            line += "M\(Self.decimal(outline.x)) \(Self.decimal(outline.y))\(outline.commands)"
            if series.filled {
                fill += "M\(Self.decimal(outline.x)) \(bottom)V\(Self.decimal(outline.y))\(outline.commands)V\(bottom)Z"
            }
        }
        guard !line.isEmpty else { return "" }
        var out = fill.isEmpty ? "" : "<path d=\"\(fill)\" fill=\"\(series.color)\" fill-opacity=\"0.16\"/>"
        let dash = series.dashed ? " stroke-dasharray=\"5 3\"" : ""
        out += "<path d=\"\(line)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"1.5\" stroke-linejoin=\"round\"\(dash)/>"
        return out
    }

    /// Tenths of a pixel as a decimal: 125 → "12.5", 120 → "12", -4 → "-.4".
    static func decimal(_ tenths: Int) -> String {
        let magnitude = tenths.magnitude
        let whole = magnitude / 10, fraction = magnitude % 10
        let sign = tenths < 0 ? "-" : ""
        if fraction == 0 { return "\(sign)\(whole)" }
        return whole == 0 ? "\(sign).\(fraction)" : "\(sign)\(whole).\(fraction)"
    }

    /// A relative coordinate after another number: a leading space unless it is negative
    /// (the minus sign separates it).
    static func signed(_ tenths: Int) -> String {
        tenths < 0 ? decimal(tenths) : " \(decimal(tenths))"
    }

    func escape(_ text: String) -> String {
        StatusPage.escaped(text)
    }
}
