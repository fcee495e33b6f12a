/// One parser under test.
///
/// `extract` runs once per fixture, outside any timing, to check that every parser sees the
/// same field values. `run` is the timed loop: it parses the fixture `iterations` times and
/// extracts the fields each time, returning a checksum of what it extracted so nothing can be
/// optimised away. Each competitor writes its own loop so that no closure or existential call
/// sits inside it.
struct Competitor {
    /// Short name for the table.
    let name: String
    /// One line saying what exactly is measured.
    let detail: String
    let extract: (PaddedBuffer) throws(BenchmarkFailure) -> ExtractedFields
    let run: (PaddedBuffer, Int) -> Int
}

extension Competitor {
    static let scannerName = "Sockeye scanner"
    static let onDemandName = "simdjson on-demand"
    static let onDemandLookupName = "simdjson od lookups"
    static let domName = "simdjson DOM"
    static let janssonName = "jansson"
    static let foundationName = "JSONSerialization"
}
