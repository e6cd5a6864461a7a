//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

extension Duration {
    /// This duration in seconds, as a `Double`.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
