import CCrypto

/// Tracked values are bounded: one larger than ``cap`` bytes (compact JSON as served) is kept, compared and said by
/// its size and SHA-256 — never repeated whole in a state entry or a change, so a record that carries a change is
/// never much larger than the version itself (a 6 MB `analystVerdict` once made the next version's record carry it
/// twice more, and the record failed `MSG_SIZE_TOO_LARGE`).
///
/// In memory a digest is a slot whose first byte is 0, which no JSON value starts with, then `<size>:<hex>`; two
/// values compare equal when both are within the cap and byte-equal, or both over it with the same size and digest.
public enum TrackedValueDigest {
    /// The largest tracked value kept whole, in bytes.
    public static let cap = 4096

    /// `value` as kept: itself within the cap, else its digest.
    public static func bounded(_ value: [UInt8]?) -> [UInt8]? {
        guard let value, value.count > cap, !isDigest(value) else { return value }
        return digest(size: value.count, sha256: sha256Hex(value))
    }

    /// `value`'s digest, whatever its size (the other side of a truncated field is said the same way).
    public static func asDigest(_ value: [UInt8]) -> [UInt8] {
        isDigest(value) ? value : digest(size: value.count, sha256: sha256Hex(value))
    }

    /// Whether `slot` is a digest rather than a value.
    public static func isDigest(_ slot: [UInt8]) -> Bool { slot.first == 0 }

    /// A digest from its parts (read back from a stored entry or change).
    public static func digest(size: Int, sha256: String) -> [UInt8] {
        [0] + Array("\(size):\(sha256)".utf8)
    }

    /// The size and SHA-256 (lowercase hex) of a value, or of the value a digest stands for.
    public static func sizeAndSHA256(_ slot: [UInt8]) -> (size: Int, sha256: String) {
        if isDigest(slot), let colon = slot.firstIndex(of: UInt8(ascii: ":")),
            let size = Int(String(decoding: slot[1..<colon], as: UTF8.self))
        {
            return (size, String(decoding: slot[(colon + 1)...], as: UTF8.self))
        }
        return (slot.count, sha256Hex(slot))
    }

    /// SHA-256 of `bytes`, lowercase hex (OpenSSL's libcrypto).
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
