/// The version of Sockeye: one number for the Swift packages, libsockeye.so
/// (`sockeye_version()`), `include/sockeye.h`, `sockeye.pc`, the Python package and `sockeyed`.
///
/// The number is decided in the `VERSION` file at the top of the repository; this copy,
/// the header's `SOCKEYE_VERSION_*` macros and the Python package's are checked against it
/// by `scripts/check-version` (in the fast tier of `scripts/test`), which fails on any
/// difference. `major` changes only with an incompatible change of the C ABI or the Swift
/// API; hosts compare it with the `SOCKEYE_VERSION_MAJOR` they were built against.
public enum SockeyeVersion {
    /// Incompatible API or ABI changes.
    public static let major = 0
    /// Compatible additions.
    public static let minor = 4
    /// Fixes only.
    public static let patch = 0
    /// `"major.minor.patch"`.
    public static let string = "\(major).\(minor).\(patch)"
}
