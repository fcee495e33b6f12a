import CSockeye

/// A C ABI call that cannot proceed: the status to return and, for the log, why.
struct ABIFailure: Error {
    let status: sockeye_status
    let message: String

    init(_ status: sockeye_status, _ message: String) {
        self.status = status
        self.message = message
    }
}
