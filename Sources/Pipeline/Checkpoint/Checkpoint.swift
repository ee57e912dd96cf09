/// How far a continuous export has delivered: every threat version whose `updatedAt` is before `updatedAt`, and the
/// versions at exactly `updatedAt` of the threats in `idsAtUpdatedAt`, reached every sink.
///
/// The next poll asks for `updatedAt__gte=<updatedAt>` and skips the versions this checkpoint already covers, so a
/// version is delivered once and ties at the boundary are neither lost nor repeated.
public struct Checkpoint: Codable, Equatable, Sendable {
    /// `threatInfo.updatedAt` of the last delivered version, as the API wrote it.
    public var updatedAt: String
    /// The ids of the delivered versions at exactly `updatedAt`, sorted.
    public var idsAtUpdatedAt: [String]

    public init(updatedAt: String, idsAtUpdatedAt: [String]) {
        self.updatedAt = updatedAt
        self.idsAtUpdatedAt = idsAtUpdatedAt.sorted()
    }

}
