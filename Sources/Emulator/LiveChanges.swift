import Durations
import NIOConcurrencyHelpers
import Foundation
import RawJSON

/// The emulator's live mode: threats added and updated while it serves, every version it served remembered.
final class LiveChanges: Sendable {
    typealias Version = ServedVersion

    private struct State {
        var count: Int
        /// index → (version number, updatedAt) for threats updated or added while serving.
        var overrides: [Int: (number: Int, updatedAt: RFC3339Timestamp)] = [:]
        var lastStamp: Int64 = 0
        var frozen = false
        /// Threats deleted from the console: no longer listed, their analysis and events 404.
        var removed: Set<Int> = []
        /// When each live version became visible (wall clock): the versions log says it, for freshness.
        var created: [Int: RFC3339Timestamp] = [:]
        /// When each threat added while serving was added: its `createdAt`.
        var added: [Int: RFC3339Timestamp] = [:]
        var served: Set<Version> = []
        var tick: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>
    let initialCount: Int
    /// Where each newly served version is appended as `id<TAB>updatedAt`, when asked for.
    private let log: NIOLockedValueBox<FileHandle?>

    init(initialCount: Int, versionsLogPath: String? = nil) {
        self.initialCount = initialCount
        state = NIOLockedValueBox(State(count: initialCount))
        var handle: FileHandle?
        if let versionsLogPath {
            _ = FileManager.default.createFile(atPath: versionsLogPath, contents: nil)
            handle = FileHandle(forWritingAtPath: versionsLogPath)
        }
        log = NIOLockedValueBox(handle)
    }

    var count: Int { state.withLockedValue { $0.count } }

    /// The console at one instant: how many threats, and the live versions. A list answer is computed from one
    /// snapshot, as a database would answer from one transaction — otherwise it could include an update stamped
    /// after a new threat it does not include, and a client's checkpoint would pass that threat by.
    struct Snapshot {
        var count: Int
        var overrides: [Int: (number: Int, updatedAt: RFC3339Timestamp)]
        var removed: Set<Int>
        var created: [Int: RFC3339Timestamp]
    }

    func snapshot() -> Snapshot {
        state.withLockedValue { Snapshot(count: $0.count, overrides: $0.overrides, removed: $0.removed, created: $0.created) }
    }

    /// Deletes threats from the console.
    func remove(_ indices: [Int]) { state.withLockedValue { $0.removed.formUnion(indices) } }

    func isRemoved(_ index: Int) -> Bool { state.withLockedValue { $0.removed.contains(index) } }

    /// When the threat at `index` was added while serving; nil for the initial threats.
    func addedAt(_ index: Int) -> RFC3339Timestamp? { state.withLockedValue { $0.added[index] } }

    func override(at index: Int) -> (number: Int, updatedAt: RFC3339Timestamp)? {
        state.withLockedValue { $0.overrides[index] }
    }

    /// Adds `added` threats and updates `updated` random existing ones, stamped with `now` (strictly increasing);
    /// then makes `late` updates visible that are stamped `lateBy` before `now` (each to a threat whose current
    /// version is older than that, so it stays the threat's newest version).
    func change(added: Int, updated: Int, now: RFC3339Timestamp, late: Int = 0, lateBy: Duration = .zero, seed: UInt64) {
        state.withLockedValue { state in
            guard !state.frozen else { return }
            state.tick += 1
            var random = SplitMix64(seed: seed, stream: 99, index: state.tick)
            func stamp() -> RFC3339Timestamp {
                state.lastStamp = max(state.lastStamp + 1, now.microseconds)
                return RFC3339Timestamp(microseconds: state.lastStamp)
            }
            for _ in 0..<added {
                state.overrides[state.count] = (1, stamp())
                state.created[state.count] = now
                state.added[state.count] = now
                state.count += 1
            }
            guard state.count > 0 else { return }
            for _ in 0..<updated {
                let index = Int(random.next() % UInt64(state.count))
                let number = (state.overrides[index]?.number ?? 0) + 1
                state.overrides[index] = (number, stamp())
                state.created[index] = now
            }
            let lateMicroseconds = lateBy.saturatingMicroseconds
            for offset in 0..<late {
                // Only initial threats never updated live: their versions are all older than a late stamp.
                let index = Int(random.next() % UInt64(initialCount))
                guard state.overrides[index] == nil else { continue }
                state.overrides[index] = (1, RFC3339Timestamp(microseconds: now.microseconds - lateMicroseconds + Int64(offset)))
                state.created[index] = now
            }
        }
    }

    /// The next version of the threat at `index`, stamped with `now` (strictly after every earlier stamp).
    func update(_ index: Int, now: RFC3339Timestamp) {
        state.withLockedValue { state in
            guard index < state.count else { return }
            state.lastStamp = max(state.lastStamp + 1, now.microseconds)
            state.overrides[index] = ((state.overrides[index]?.number ?? 0) + 1, RFC3339Timestamp(microseconds: state.lastStamp))
            state.created[index] = now
        }
    }

    /// Stops all changes from now on.
    func freeze() { state.withLockedValue { $0.frozen = true } }

    /// Notes versions served in a list answer; the versions log gets each new one as `id <TAB> updatedAt <TAB>
    /// visible since` — the wall-clock time the live version appeared (`-` for the console's initial versions).
    func recordServed(_ versions: [(version: Version, created: RFC3339Timestamp?)]) {
        let new = state.withLockedValue { state in versions.filter { state.served.insert($0.version).inserted } }
        guard !new.isEmpty else { return }
        log.withLockedValue { handle in
            handle?.write(Data(new.map { "\($0.version.id)\t\($0.version.updatedAt)\t\($0.created?.description ?? "-")\n" }.joined().utf8))
        }
    }

    var served: Set<Version> { state.withLockedValue { $0.served } }
}

/// A threat version the emulator served in a list answer.
public struct ServedVersion: Hashable, Sendable {
    public var id: String
    public var updatedAt: String

    public init(id: String, updatedAt: String) {
        self.id = id
        self.updatedAt = updatedAt
    }
}
