public enum NetKitInfo { public static let version = "0.1.0" }
