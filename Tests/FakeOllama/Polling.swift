//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

// Testing is only on the module path when tests are built; a plain `swift build` builds this
// target too, without it.
#if canImport(Testing)
import Testing

/// Polls `condition` until it holds or `timeout` passes; records an issue on timeout.
/// For waiting on files and other state that has no event to await.
public func eventually(
    _ what: String, timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async rethrows {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try? await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("timed out after \(timeout) waiting for: \(what)", sourceLocation: sourceLocation)
}
#endif
