import Foundation

/// A component's current failure: what it is and since when (for the status page), and
/// whether a change starts or ends one, so that the log says each once.
public struct ProblemMark<Problem: Sendable & Equatable>: Sendable {
    public private(set) var problem: Problem?
    /// When the failure began (wall clock).
    public private(set) var since: Date?

    public init() {}

    /// Records `problem`; true when this starts a failure (none was recorded).
    public mutating func set(_ problem: Problem) -> Bool {
        defer { self.problem = problem }
        guard self.problem == nil else { return false }
        since = Date()
        return true
    }

    /// Clears the failure; true when there was one.
    public mutating func clear() -> Bool {
        defer {
            problem = nil
            since = nil
        }
        return problem != nil
    }
}
