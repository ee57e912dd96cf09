import Audit
import CFuzzMain
import ConfigurationFile
import Foundation
import NIOCore
import Persistence
import Pipeline
import RawJSON

@testable import SentinelOne

/// The fuzz targets: each takes any bytes and must neither crash nor hang; what it checks beyond that is said on
/// each. Chosen by name (`THREATPIPE_FUZZ_TARGET` under libFuzzer, the first argument of the replay runner).
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "json": json,
        "list": list,
        "analysis": analysis,
        "events": events,
        "error-envelope": errorEnvelope,
        "filter": filter,
        "state-file": stateFile,
        "config-file": configFile,
        "record-lines": recordLines,
        "state-entry": stateEntry,
        "tracked-values": trackedValues,
    ]

    /// A threat state entry as a state topic or database holds it (anyone can write to a topic): an error, or an
    /// entry whose document reads back to the same document.
    static func stateEntry(_ bytes: [UInt8]) {
        guard let entry = try? ThreatStateEntry(decoding: bytes) else { return }
        guard let again = try? ThreatStateEntry(decoding: entry.encoded) else { preconditionFailure("an entry's document does not read back") }
        precondition(again.encoded == entry.encoded, "an entry changed through its document")
    }

    /// The tracked fields of any threat JSON: every value found is one JSON value; the change against itself is none.
    static func trackedValues(_ bytes: [UInt8]) {
        let detector = ChangeDetector(tracked: .defaults)
        let threat = ListedThreat(id: "t", updatedAt: "2026-01-01T00:00:00Z", json: bytes)
        let first = detector.detect(threat, previous: nil, horizon: nil, now: 0)
        for value in first.entry.slots.compactMap({ $0 }) {
            precondition((try? JSONValue.parse(value)) != nil, "a tracked value is not one JSON value")
        }
        var later = threat
        later.updatedAt = "2026-01-02T00:00:00Z"
        let second = detector.detect(later, previous: first.entry, horizon: nil, now: 0)
        precondition(second.change.kind == .unchanged, "the same threat changed against itself")
    }

    /// The scanner and the value type: what parses re-serialises to JSON that parses to the same value, on one line.
    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONValue.parse(bytes) else { return }
        let written = value.serialized
        precondition(!written.contains(0x0A), "a serialised value holds a newline")
        guard let again = try? JSONValue.parse(written) else { preconditionFailure("a serialised value does not parse") }
        precondition(again == value, "the value changed through serialisation")
        var compact: [UInt8] = []
        bytes.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw)
            guard let (span, isCompact) = try? scanner.skipCompactValue() else { return }
            JSONSplicer.appendCompact(raw, span: span, isCompact: isCompact, to: &compact)
        }
        guard !compact.isEmpty else { return }
        guard let spliced = try? JSONValue.parse(compact) else { preconditionFailure("a spliced value does not parse") }
        precondition(spliced == value, "splicing changed the value")
    }

    private static func response(_ bytes: [UInt8]) -> APIResponse {
        APIResponse(status: 200, body: ByteBuffer(bytes: bytes), requestID: nil)
    }

    /// A list page: either an error or threats whose JSON parses on its own.
    static func list(_ bytes: [UInt8]) {
        guard let page = try? ThreatListResponse.parse(response(bytes), path: "/threats") else { return }
        for threat in page.threats {
            precondition((try? JSONValue.parse(threat.json)) != nil, "a listed threat is not JSON")
        }
    }

    /// An analysis: an error or one JSON value — never two spliced together.
    static func analysis(_ bytes: [UInt8]) {
        guard let data = try? AnalysisResponse.parse(response(bytes), path: "/analysis") else { return }
        precondition((try? JSONValue.parse(data)) != nil, "the analysis is not one JSON value")
    }

    /// A page of events: an error or events that join into a JSON array.
    static func events(_ bytes: [UInt8]) {
        var events = ThreatEvents()
        guard (try? EventsPageResponse.append(response(bytes), path: "/events", to: &events, limit: 50)) != nil else { return }
        let array = [UInt8(ascii: "[")] + events.joinedJSON + [UInt8(ascii: "]")]
        guard case .array(let elements)? = try? JSONValue.parse(array) else { preconditionFailure("the events are not a JSON array") }
        precondition(elements.count == events.count && events.count <= 50, "the event count is wrong")
    }

    /// An error answer's detail, for the error line.
    static func errorEnvelope(_ bytes: [UInt8]) {
        _ = ErrorEnvelope.detail(in: ByteBuffer(bytes: bytes))
        _ = SentinelOneClient.excerpt(of: ByteBuffer(bytes: bytes))
    }

    /// `--filter` values, one per line, against the catalogue: an error or filters that encode to a query string.
    static func filter(_ bytes: [UInt8]) {
        let options = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        guard let filters = try? QueryFilter.parse(options, catalog: .threats) else { return }
        _ = try? ThreatListQuery(filters: filters, pageSize: 1000).queryString(cursor: nil)
    }

    /// The state file: an error or a checkpoint, never a crash and never a silent fresh start.
    static func stateFile(_ bytes: [UInt8]) {
        let path = NSTemporaryDirectory() + "threatpipe-fuzz-state-\(getpid()).json"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        if case .success(let contents?) = Result(catching: { try CheckpointFile(path: path).load() }), let checkpoint = contents.checkpoint {
            _ = CheckpointProgress(resumingFrom: checkpoint, overlap: .seconds(5)).pollStart
        }
    }
}

extension FuzzTargets {
    /// Options of every shape, as a command has them.
    static let options: [String: ConfigurationFile.OptionShape] = [
        "console-url": .init(isFlag: false, isRepeating: false),
        "filter": .init(isFlag: false, isRepeating: true),
        "insecure-skip-tls-verify": .init(isFlag: true, isRepeating: false),
        "rate-limit": .init(isFlag: false, isRepeating: false),
    ]

    /// The YAML configuration file (`--config`): an error or values of known keys shaped as their options are (a
    /// flag a boolean, a single option one value); the `shards:` list an error or named entries.
    static func configFile(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let values = try? ConfigurationFile.values(yaml: text, path: "fuzz.yaml", known: options) {
            for (key, value) in values {
                guard let shape = options[key] else { preconditionFailure("an unknown key '\(key)' was taken") }
                switch value {
                case .bool: precondition(shape.isFlag, "a value that is not a flag's became a boolean")
                case .string: precondition(!shape.isFlag && !shape.isRepeating, "a flag or a list took one string")
                case .strings: precondition(shape.isRepeating, "a single option took a list")
                }
            }
        }
        if let entries = try? ShardsFile.entries(yaml: text, path: "fuzz.yaml") {
            precondition(entries.allSatisfy { !$0.name.isEmpty }, "a shard without a name")
        }
    }

    /// The NDJSON reader `audit` uses (a file of any bytes, its lines bounded at 4 KiB here): an error or the
    /// file's non-empty lines, newline-free, each within the bound, together the file's bytes less the newlines;
    /// each line read as a record or refused.
    static func recordLines(_ bytes: [UInt8]) {
        let path = NSTemporaryDirectory() + "threatpipe-fuzz-lines-\(getpid()).ndjson"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var joined: [UInt8] = []
        let bound = 4096
        let read = Result {
            try RecordLines.forEach(inFiles: [path], maximumLineBytes: bound) { line in
                precondition(!line.isEmpty && !line.contains(0x0A), "an empty line or one with a newline")
                precondition(line.count <= bound, "a line over the bound")
                joined += line
                _ = try? DeliveredVersion(record: line)
            }
        }
        // gzip-compressed input is decompressed, so only plain input can be compared byte for byte.
        guard case .success = read, !bytes.starts(with: [0x1F, 0x8B]) else { return }
        precondition(joined == bytes.filter { $0 != 0x0A }, "the lines are not the file's bytes")
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.selected(bytes)
    return 0
}

extension FuzzTargets {
    /// The target named by `THREATPIPE_FUZZ_TARGET`.
    static let selected: @Sendable ([UInt8]) -> Void = {
        let name = ProcessInfo.processInfo.environment["THREATPIPE_FUZZ_TARGET"] ?? ""
        guard let target = all[name] else {
            FileHandle.standardError.write(Data("THREATPIPE_FUZZ_TARGET must be one of \(all.keys.sorted())\n".utf8))
            exit(2)
        }
        return target
    }()
}
