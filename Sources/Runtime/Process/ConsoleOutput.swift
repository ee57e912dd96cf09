#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line to standard error, unbuffered.
public func printError(_ line: String) {
    writeLine(line, to: STDERR_FILENO)
}

/// One line to standard output, unbuffered (seen at once by a process reading the pipe).
public func printOutput(_ line: String) {
    writeLine(line, to: STDOUT_FILENO)
}

private func writeLine(_ line: String, to descriptor: Int32) {
    let text = line + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { buffer in
        write(descriptor, buffer.baseAddress, buffer.count - 1)
    }
}
