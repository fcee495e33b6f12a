/// How a load run is labelled: who limited it (`saturated`) and whether anything was lost.
/// Socket Mode and HTTP delivery use the same rules.
public enum LoadVerdict {
    /// Send lag above this means the rate run did not keep its schedule.
    public static let maxKeptLag = 0.05
    /// A thread on CPU for at least this fraction of the run was the limit.
    public static let busyLimit = 0.9

    /// Open-loop rate mode: judged by the schedule first. A run whose sends never fell
    /// more than 50 ms behind kept its schedule, however busy the sim was; a late run was
    /// held up by the sim when its thread was busy, otherwise by something else on the
    /// machine (the client, or other processes).
    public static func rate(maxLag: Double, busy: Double) -> String {
        if maxLag <= maxKeptLag { return "none (kept the schedule)" }
        return busy >= busyLimit ? "sim" : "client"
    }

    /// As-fast-as-acked mode: the sim when its thread was busy, else the client.
    public static func window(busy: Double) -> String { busy >= busyLimit ? "sim" : "client" }
}

extension SimReport {
    /// Records the load generator's busy fraction and what limited the run: for a rate run
    /// (`rateRunMaxLag` given) its worst send lag, else the window run's verdict.
    mutating func recordLoad(busy: Double, rateRunMaxLag maxLag: Double?) {
        simBusyFraction = busy
        if let maxLag {
            maxSendLagMs = maxLag * 1000
            saturated = LoadVerdict.rate(maxLag: maxLag, busy: busy)
        } else {
            saturated = LoadVerdict.window(busy: busy)
        }
    }

    /// Fills in what was lost and the verdict from the counters and `saturated`: events
    /// failed after their retries, events dropped because their app's events were disabled
    /// (they never reach a connection, so they appear in `total` only here) and commands
    /// or interactions the user saw fail. Safe to call again after `saturated` changes.
    mutating func settleLosses() {
        total.droppedWhileDisabled = droppedWhileDisabled
        lost = total.failedAfterRetries + total.droppedWhileDisabled + total.userVisibleFailures
        var text = lost == 0 ? "no envelope lost" :
            "LOST \(lost) (failed after retries \(total.failedAfterRetries), dropped while events disabled \(total.droppedWhileDisabled), user-visible failures \(total.userVisibleFailures))"
        if let saturated { text += "; saturated: " + saturated }
        verdict = text
    }
}
