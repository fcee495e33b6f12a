/// What the daemon shows of a command that may hold secrets once `${ENV}` is substituted
/// (`--token=…`): the status page, `status.json`, sink figures, errors and log lines show
/// this form, never the arguments. URLs have their own form, `URLRedaction` in the core.
public enum Redaction {
    /// The program without its arguments: `deploy.sh (+3 arguments)`. A path is cut to its
    /// last component (a directory name can say as much as an argument).
    public static func command(_ arguments: [String]) -> String {
        guard let program = arguments.first else { return "(no program)" }
        let name = program.split(separator: "/").last.map(String.init) ?? program
        let rest = arguments.count - 1
        switch rest {
        case 0: return name
        case 1: return "\(name) (+1 argument)"
        default: return "\(name) (+\(rest) arguments)"
        }
    }
}
