/// The version of the Sockeye protocol core.
///
/// `major` changes only with an incompatible change of the C ABI or the Swift API;
/// hosts compare it with the `SOCKEYE_VERSION_MAJOR` they were built against.
public enum SockeyeVersion {
    /// Incompatible API or ABI changes.
    public static let major = 0
    /// Compatible additions.
    public static let minor = 1
    /// Fixes only.
    public static let patch = 0
    /// `"major.minor.patch"`.
    public static let string = "\(major).\(minor).\(patch)"
}
