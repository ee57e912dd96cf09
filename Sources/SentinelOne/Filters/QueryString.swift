/// Builds the query part of a URL: names and values percent-encoded, except the commas that join list values.
enum QueryString {
    typealias Item = (name: String, value: String, isList: Bool)

    static func encode(_ items: [Item]) -> String {
        items.map { item in
            let value: String
            if item.isList {
                value = item.value.split(separator: ",", omittingEmptySubsequences: false)
                    .map { percentEncode(String($0)) }.joined(separator: ",")
            } else {
                value = percentEncode(item.value)
            }
            return percentEncode(item.name) + "=" + value
        }.joined(separator: "&")
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    static func percentEncode(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                output += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return output
    }
}
