import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif
import Durations
import Foundation
import Pipeline
import Synchronization

/// `export`'s live progress on a terminal: threats delivered of the total, rate and ETA, redrawn in place on
/// standard error twice a second. Shown only when standard error is a terminal and standard output is not a pipe
/// or the stdout sink (records and progress never share a screen or a stream).
public final class ProgressLine: Sendable {
    /// - Parameter deliveredSoFar: read at each redraw, when given, for the count (``setDelivered(_:)`` otherwise).
    public init(deliveredSoFar: (@Sendable () -> Int)? = nil) {
        self.deliveredSoFar = deliveredSoFar
    }

    private let delivered = Atomic<Int>(0)
    private let deliveredSoFar: (@Sendable () -> Int)?
    private let total = NIOLockedValueBox<Int?>(nil)
    private let started = ContinuousClock.now

    /// Whether progress should be drawn at all.
    public static func isWanted(stdoutSinkInUse: Bool) -> Bool {
        guard isatty(STDERR_FILENO) == 1, !stdoutSinkInUse else { return false }
        guard let status = FileStatus.of(descriptor: STDOUT_FILENO) else { return false }
        return !status.isFIFO
    }

    /// Records acknowledged by every sink so far (the pipeline's low watermark).
    func setDelivered(_ count: Int) { delivered.store(count, ordering: .relaxed) }

    /// The number of threats the filters match (`countOnly`), once known.
    func setTotal(_ count: Int?) { total.withLockedValue { $0 = count } }

    /// Draws until cancelled, then clears the line.
    func draw() async {
        while !Task.isCancelled {
            write(line())
            try? await Task.sleep(for: .milliseconds(500))
        }
        write("\r\u{1B}[K")
    }

    func line() -> String {
        let done = deliveredSoFar?() ?? delivered.load(ordering: .relaxed)
        let seconds = (ContinuousClock.now - started).inSeconds
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "threatpipe: \(done)"
        if let total = total.withLockedValue({ $0 }), total > 0 {
            text += " / \(total) threats (\(min(100, done * 100 / total))%), \(Int(rate))/s"
            if rate > 0, total > done { text += ", ETA \(Self.clock(Double(total - done) / rate))" }
        } else {
            text += " threats, \(Int(rate))/s"
        }
        return "\r\u{1B}[K" + text
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 3600
            ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
            : String(format: "%d:%02d", whole / 60, whole % 60)
    }

    private func write(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
    }
}
