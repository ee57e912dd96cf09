import Foundation
import Testing

@testable import Sinks

/// Writing to a descriptor someone else made non-blocking (a pipe to a slow reader).
@Suite struct FileDescriptorIOTests {
    @Test func writesEverythingToAFullNonBlockingPipe() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        defer { close(readEnd) }
        #expect(fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK) == 0)
        // Fill the pipe until the kernel says EAGAIN.
        let filler = [UInt8](repeating: 0x2E, count: 4096)
        var filled = 0
        while true {
            let written = filler.withUnsafeBytes { write(writeEnd, $0.baseAddress!, $0.count) }
            if written < 0 {
                #expect(errno == EAGAIN)
                break
            }
            filled += written
        }
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        // The write end is closed once the write ends, however it ends: the reader then sees the end of the pipe.
        let writing = Task {
            defer { close(writeEnd) }
            try await FileDescriptorIO.write(payload, to: writeEnd, path: "pipe")
        }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
            try #require(count >= 0)
            if count == 0 { break }
            received += buffer[..<count]
        }
        try await writing.value
        #expect(received.prefix(filled).allSatisfy { $0 == 0x2E })
        #expect(Array(received.dropFirst(filled)) == payload)
    }
}
