/// A Bloom filter of the threat ids a state store holds: a lookup of an id it has never stored (every threat of a
/// first run, every new threat) is answered without a query. Fixed size (512 KiB, three probes): memory does not grow
/// with the threats; past a million ids it answers "maybe" more often (13% at a million), and a "maybe" is a query.
struct IDFilter: Sendable {
    private var words: [UInt64]
    private static let bitCount: UInt64 = 1 << 22

    init() {
        words = Array(repeating: 0, count: Int(Self.bitCount / 64))
    }

    mutating func insert(_ id: String) {
        for bit in Self.bits(id) { words[Int(bit / 64)] |= 1 << (bit % 64) }
    }

    /// False: never inserted. True: maybe.
    func mayContain(_ id: String) -> Bool {
        Self.bits(id).allSatisfy { words[Int($0 / 64)] & (1 << ($0 % 64)) != 0 }
    }

    /// Three positions by double hashing of FNV-1a.
    private static func bits(_ id: String) -> [UInt64] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let first = hash, second = (hash >> 29 | hash << 35) | 1
        return (0..<3).map { (first &+ UInt64($0) &* second) % bitCount }
    }
}
