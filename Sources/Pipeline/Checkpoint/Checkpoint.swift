import RawJSON

/// How far a continuous export has delivered: every threat version whose `updatedAt` is before `updatedAt`, and the
/// versions at exactly `updatedAt` of the threats in `idsAtUpdatedAt`, reached every sink.
///
/// The next poll asks for `updatedAt__gte=<updatedAt − overlap>` and skips the versions this checkpoint already
/// covers, so a version is delivered once and ties at the boundary are neither lost nor repeated. With an overlap,
/// `deliveredInOverlap` lists the versions delivered in the overlap window below `updatedAt`: a version that became
/// visible late with an `updatedAt` in that window is not among them, and is delivered.
public struct Checkpoint: Codable, Equatable, Sendable {
    /// A threat version: the threat's id and its `threatInfo.updatedAt` as the API wrote it.
    public struct Version: Codable, Hashable, Sendable, Comparable {
        public var id: String
        public var updatedAt: String

        public init(id: String, updatedAt: String) {
            self.id = id
            self.updatedAt = updatedAt
        }

        /// One version whatever precision its `updatedAt` was written with: equal, hashed and ordered by the instant.
        public static func == (left: Version, right: Version) -> Bool {
            left.id == right.id && RFC3339Timestamp.sameInstant(left.updatedAt, right.updatedAt)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(id)
            if let instant = RFC3339Timestamp(updatedAt) { hasher.combine(instant) } else { hasher.combine(updatedAt) }
        }

        public static func < (left: Version, right: Version) -> Bool {
            if RFC3339Timestamp.sameInstant(left.updatedAt, right.updatedAt) { return left.id < right.id }
            return RFC3339Timestamp.precedes(left.updatedAt, right.updatedAt)
        }
    }

    /// A delivered version whose analysis or events failed for a transient reason (after the retries): it is
    /// enriched again on later polls, with backoff, until a complete record of it is delivered.
    public struct PendingEnrichment: Codable, Hashable, Sendable {
        public var id: String
        public var updatedAt: String
        /// Re-enrichments tried so far.
        public var attempts: Int
        /// Not tried again before this instant (RFC 3339).
        public var notBefore: String

        /// Oldest first by the version's instant, then by id.
        static func oldestFirst(_ left: PendingEnrichment, _ right: PendingEnrichment) -> Bool {
            Version(id: left.id, updatedAt: left.updatedAt) < Version(id: right.id, updatedAt: right.updatedAt)
        }

        public init(id: String, updatedAt: String, attempts: Int, notBefore: String) {
            self.id = id
            self.updatedAt = updatedAt
            self.attempts = attempts
            self.notBefore = notBefore
        }
    }

    /// `threatInfo.updatedAt` of the last delivered version, as the API wrote it.
    public var updatedAt: String
    /// The ids of the delivered versions at exactly `updatedAt`, sorted.
    public var idsAtUpdatedAt: [String]
    /// With an overlap: the versions delivered with an `updatedAt` in the overlap window below `updatedAt`, sorted.
    public var deliveredInOverlap: [Version]?
    /// Delivered versions to enrich again (oldest first); nil when there are none.
    public var pendingEnrichment: [PendingEnrichment]?

    public init(updatedAt: String, idsAtUpdatedAt: [String], deliveredInOverlap: [Version]? = nil, pendingEnrichment: [PendingEnrichment]? = nil) {
        self.updatedAt = updatedAt
        self.idsAtUpdatedAt = idsAtUpdatedAt.sorted()
        self.deliveredInOverlap = deliveredInOverlap?.sorted()
        self.pendingEnrichment = pendingEnrichment
    }
}
