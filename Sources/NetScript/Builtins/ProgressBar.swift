import Foundation

/// A one-line progress bar on standard error for transfers (`http.download`, `ftp.get`,
/// `ftp.put`): name, bar and percentage when the size is known, bytes and rate; redrawn at most
/// ten times a second and erased at the end. Shown only on a terminal unless `progress: true`
/// asks for it (and never with `progress: false`).
final class ProgressBar {
    let label: String
    let start = Date()
    var last = Date.distantPast
    var drawn = false
    init(_ label: String) { self.label = label }

    /// A bar for `label`, or nil: `enabled` is the command's `progress:` option.
    static func make(_ label: String, enabled: Bool?) -> ProgressBar? {
        if enabled == false || (enabled == nil && isatty(2) != 1) { return nil }
        return ProgressBar(label)
    }

    func update(_ done: Int64, _ total: Int64?) {
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.1 else { return }
        last = now
        let t = now.timeIntervalSince(start)
        let rate = t > 0 ? Double(done) / t : 0
        var line = "\r\u{1B}[K" + String(label.suffix(30))
        if let total, total > 0 {
            let frac = min(1, Double(done) / Double(total))
            let width = 24
            let fill = Int(frac * Double(width))
            line += " [" + String(repeating: "#", count: fill) + String(repeating: ".", count: width - fill) + "]"
            line += String(format: " %3d%% %@ of %@", Int(frac * 100), ProgressBar.size(done), ProgressBar.size(total))
        } else {
            line += " " + ProgressBar.size(done)
        }
        line += " " + ProgressBar.size(Int64(rate)) + "/s"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func update(_ done: Int, _ total: Int?) { update(Int64(done), total.map { Int64($0) }) }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    static func size(_ n: Int64) -> String {
        let d = Double(n)
        if d >= Double(1 << 30) { return String(format: "%.2f GiB", d / Double(1 << 30)) }
        if d >= Double(1 << 20) { return String(format: "%.1f MiB", d / Double(1 << 20)) }
        if d >= Double(1 << 10) { return String(format: "%.1f KiB", d / Double(1 << 10)) }
        return "\(n) B"
    }
}
