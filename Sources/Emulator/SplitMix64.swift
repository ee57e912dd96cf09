/// A tiny deterministic random generator: the same seed gives the same data on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64, stream: UInt64 = 0, index: UInt64 = 0) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ stream &* 0xBF58_476D_1CE4_E5B9 ^ index &* 0x94D0_49BB_1331_11EB
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func pick<T>(_ options: [T]) -> T {
        options[Int(next() % UInt64(options.count))]
    }

    mutating func hex(_ length: Int) -> String {
        var text = ""
        while text.count < length { text += String(next(), radix: 16) }
        return String(text.prefix(length))
    }

    mutating func digits(_ length: Int) -> String {
        var text = String(next() % 9 + 1)
        while text.count < length { text += String(next() % 10) }
        return text
    }
}
