#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Pipeline
import RawJSON

/// The state file of a continuous export: a versioned, human-readable JSON document holding the checkpoint and the
/// query it belongs to, replaced atomically (temporary file, fsync, rename, fsync of the directory) so that a crash
/// leaves either the old state or the new one, never a mix.
public struct CheckpointFile: Sendable {
    /// The format written; a file of another version is refused, not guessed at.
    public static let formatVersion = 1

    /// What the file holds.
    public struct Contents: Codable, Equatable, Sendable {
        public var version: Int
        /// The console the checkpoint belongs to.
        public var consoleUrl: String
        /// The user's filters, `name=value`, sorted: a checkpoint is only valid for the query that produced it.
        public var filters: [String]
        public var checkpoint: Checkpoint?
        /// When the file was written (UTC), for people reading it.
        public var savedAt: String

        public init(consoleUrl: String, filters: [String], checkpoint: Checkpoint?, savedAt: String) {
            self.version = CheckpointFile.formatVersion
            self.consoleUrl = consoleUrl
            self.filters = filters.sorted()
            self.checkpoint = checkpoint
            self.savedAt = savedAt
        }
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Reads the file; nil when it does not exist (a first run). Anything else that keeps it from being read is an
    /// error: a run never silently starts over.
    public func load() throws(CheckpointFileError) -> Contents? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointFileError(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        return try Self.decode(data, location: path)
    }

    /// The document in `data` (from a file or a Kafka record at `location`), its format version checked.
    public static func decode(_ data: Data, location: String) throws(CheckpointFileError) -> Contents {
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: data)
        } catch {
            let noun = location.hasPrefix("kafka:") ? "checkpoint" : "state file"
            throw CheckpointFileError(path: location, reason: "is not a threatpipe \(noun) (\(Self.describe(error)))")
        }
        guard contents.version == Self.formatVersion else {
            throw CheckpointFileError(
                path: location,
                reason: "has format version \(contents.version); this threatpipe reads version \(Self.formatVersion)"
            )
        }
        return contents
    }

    /// The document as one line of JSON (sorted keys): a Kafka record's value.
    public static func encodeCompact(_ contents: Contents) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, numbers and arrays cannot fail.
        return Array((try? encoder.encode(contents)) ?? Data())
    }

    /// Replaces the file atomically with `contents`.
    public func save(_ contents: Contents) throws(CheckpointFileError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(contents) + Data("\n".utf8)
        } catch {
            throw CheckpointFileError(path: path, reason: "cannot be encoded: \(error)")
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointFileError(path: path, reason: "its directory cannot be created: \(error.localizedDescription)")
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw systemError("cannot create \(temporary)") }
        let written = data.withUnsafeBytes { bytes in write(descriptor, bytes.baseAddress, bytes.count) }
        guard written == data.count, fsync(descriptor) == 0 else {
            let error = systemError("cannot write \(temporary)")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = systemError("cannot replace it")
            unlink(temporary)
            throw error
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else { throw systemError("cannot sync its directory") }
        }
    }

    private func systemError(_ what: String) -> CheckpointFileError {
        CheckpointFileError(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, _): return "no \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context): return context.debugDescription
        default: return "\(error)"
        }
    }
}

extension CheckpointFile.Contents {
    /// The document of `checkpoint` for one console and its filters, saved now.
    public static func saved(_ checkpoint: Checkpoint, consoleUrl: String, filters: [String]) -> Self {
        Self(consoleUrl: consoleUrl, filters: filters, checkpoint: checkpoint, savedAt: RFC3339Timestamp.now.formatted(fractionDigits: 3))
    }

    /// The checkpoint, once the document is shown to belong to `consoleUrl` and `filters` (sorted); otherwise
    /// ``CheckpointOwnershipError`` naming `location` and what else gives a checkpoint of one's own.
    public func checkpoint(ownedBy consoleUrl: String, filters: [String], location: String, otherwise: String) throws(CheckpointOwnershipError) -> Checkpoint? {
        guard self.consoleUrl == consoleUrl, self.filters == filters else {
            throw CheckpointOwnershipError(location: location, consoleURL: self.consoleUrl, filters: self.filters, otherwise: otherwise)
        }
        return checkpoint
    }
}

/// A state file that cannot be used.
public struct CheckpointFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { path.hasPrefix("kafka:") ? "checkpoint \(path) \(reason)" : "state file \(path) \(reason)" }
}

extension CheckpointFileError: ClassifiedError {
    public var kind: FailureKind { .storage }
}
