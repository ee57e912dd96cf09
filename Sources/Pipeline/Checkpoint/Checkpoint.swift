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

        public static func < (left: Version, right: Version) -> Bool {
            (left.updatedAt, left.id) < (right.updatedAt, right.id)
        }
    }

    /// `threatInfo.updatedAt` of the last delivered version, as the API wrote it.
    public var updatedAt: String
    /// The ids of the delivered versions at exactly `updatedAt`, sorted.
    public var idsAtUpdatedAt: [String]
    /// With an overlap: the versions delivered with an `updatedAt` in the overlap window below `updatedAt`, sorted.
    public var deliveredInOverlap: [Version]?

    public init(updatedAt: String, idsAtUpdatedAt: [String], deliveredInOverlap: [Version]? = nil) {
        self.updatedAt = updatedAt
        self.idsAtUpdatedAt = idsAtUpdatedAt.sorted()
        self.deliveredInOverlap = deliveredInOverlap?.sorted()
    }
}
