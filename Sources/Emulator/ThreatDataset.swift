import RawJSON

/// The emulator's console: `count` threats generated on demand from `seed`, the same every time.
///
/// Identity, times, sites and the special cases (deleted threats, awkward strings, unknown fields, many events) are
/// cheap functions of the index, so a console of a million threats costs no memory until a threat is served.
public struct ThreatDataset: Sendable {
    public let count: Int
    public let seed: UInt64

    /// First threat id; ids step by `idStride`, so an id maps back to its index.
    let firstID: UInt64
    static let idStride: UInt64 = 1_048_583
    /// 2026-01-01T00:00:00Z.
    static let epoch = RFC3339Timestamp(microseconds: 1_767_225_600_000_000)

    public init(count: Int, seed: UInt64 = 1) {
        precondition(count >= 0, "a console has no fewer than zero threats")
        self.count = count
        self.seed = seed
        firstID = 1_311_010_474_425_970_168 + (seed % 1000) * 1_000_000_000_000
    }

    // MARK: Identity

    public func id(at index: Int) -> String {
        String(firstID + UInt64(index) * Self.idStride)
    }

    /// The index of the threat with `id`, when it exists.
    public func index(ofID id: some StringProtocol) -> Int? {
        guard let value = UInt64(id), value >= firstID, (value - firstID) % Self.idStride == 0 else { return nil }
        let index = (value - firstID) / Self.idStride
        return index < UInt64(count) ? Int(index) : nil
    }

    func random(_ index: Int, stream: UInt64) -> SplitMix64 {
        SplitMix64(seed: seed, stream: stream, index: UInt64(index))
    }

    // MARK: Times

    public func createdAt(at index: Int) -> RFC3339Timestamp {
        var random = random(index, stream: 1)
        return RFC3339Timestamp(
            microseconds: Self.epoch.microseconds + Int64(index) * 37_000_000 + Int64(random.next() % 1_000_000)
        )
    }

    /// Threats whose index is a multiple of 25 share the previous threat's `updatedAt`, so that ties exist.
    public func updatedAt(at index: Int) -> RFC3339Timestamp {
        if index > 0 && index % 25 == 0 { return updatedAt(at: index - 1) }
        var random = random(index, stream: 2)
        return RFC3339Timestamp(
            microseconds: createdAt(at: index).microseconds + Int64(random.next() % (7 * 86_400_000_000))
        )
    }

    // MARK: Tenancy

    public static let accountIDs = ["1286405255240245908", "1286405255240245909", "1286405255240245910"]
    public static let siteIDs = [
        "1286405255257023125", "1286405255257023126", "1286405255257023127",
        "1286405255257023128", "1286405255257023129", "1286405255257023130",
    ]

    public func siteIndex(at index: Int) -> Int { (index / 3 + index) % Self.siteIDs.count }
    public func siteID(at index: Int) -> String { Self.siteIDs[siteIndex(at: index)] }
    public func accountID(at index: Int) -> String { Self.accountIDs[siteIndex(at: index) % Self.accountIDs.count] }

    // MARK: Special cases

    /// Listed, but deleted before enrichment: analysis and events answer 404.
    public func isDeleted(at index: Int) -> Bool { index % 53 == 7 }

    /// Carries quotes, backslashes, newlines, U+2028/U+2029, emoji and control characters in its strings.
    public func hasAwkwardStrings(at index: Int) -> Bool { index % 7 == 1 }

    /// Carries fields no client knows, with integers beyond 2^64 and decimals that must keep their text.
    public func hasUnknownFields(at index: Int) -> Bool { index % 11 == 4 }

    /// How many explore events the threat has: a few for most; 25 for some; 1203 (two pages of 1000) for a few.
    public func eventCount(at index: Int) -> Int {
        if index % 1999 == 5 { return 1203 }
        if index % 97 == 3 { return 25 }
        var random = random(index, stream: 3)
        return Int(random.next() % 4)
    }
}
