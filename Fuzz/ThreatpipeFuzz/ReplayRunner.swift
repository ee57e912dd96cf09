#if !FUZZING
import Foundation

/// Without libFuzzer: `threatpipe-fuzz TARGET FILE…` runs each file through a target once — how a crash the fuzzer
/// found is replayed, and how CI checks the seed corpus on every build.
@main
struct ReplayRunner {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTargets.all[name] else {
            FileHandle.standardError.write(Data("usage: threatpipe-fuzz \(FuzzTargets.all.keys.sorted().joined(separator: "|")) FILE…\n".utf8))
            exit(64)
        }
        var count = 0
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(66)
            }
            target(Array(data))
            count += 1
        }
        print("\(name): \(count) inputs, no crash")
    }
}
#endif
