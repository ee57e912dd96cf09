import Foundation

/// An opaque page cursor: base64 of the last item served (sort value and index) and the query it belongs to.
struct EmulatorCursor: Equatable {
    var sortValue: Int64
    var index: Int
    /// A hash of the query's filters: a cursor sent with other filters is rejected, as the console does.
    var queryHash: UInt64

    var encoded: String {
        Data("v1:\(sortValue):\(index):\(String(queryHash, radix: 16))".utf8).base64EncodedString()
    }

    init(sortValue: Int64, index: Int, queryHash: UInt64) {
        self.sortValue = sortValue
        self.index = index
        self.queryHash = queryHash
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":")
        guard parts.count == 4, parts[0] == "v1", let sortValue = Int64(parts[1]), let index = Int(parts[2]),
            let hash = UInt64(parts[3], radix: 16)
        else { return nil }
        self.init(sortValue: sortValue, index: index, queryHash: hash)
    }

    /// FNV-1a of a query fingerprint.
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01B3
        }
        return hash
    }
}
