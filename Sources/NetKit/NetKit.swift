/// The library's version string (`NetKitInfo.version`, major.minor.patch), which `netscript --version` shows.
public enum NetKitInfo { public static let version = "0.1.0" }
