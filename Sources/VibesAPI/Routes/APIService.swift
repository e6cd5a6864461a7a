//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOConcurrencyHelpers
import VibesSpool

/// What `serve` is set up with.
package struct ServeSettings: Sendable {
    package var spool: SpoolDirectory
    package var listen = ListenAddress.defaultValue
    package var keys = APIKeys(keys: [])
    /// OpenAI's limits for a batch input file: 200 MB, 50 000 lines.
    package var maxUploadBytes: Int64 = 200_000_000
    package var maxLines = 50_000
    /// Uploads at once (more get 429).
    package var maxConcurrentUploads = 4
    /// A connection with no byte in either direction for this long is closed (a slow client
    /// cannot hold a connection open).
    package var idleTimeoutSeconds: Int64 = 30
    /// Connections at once; more wait in the listen backlog.
    package var maxConnections = 512
    /// Seconds added to the clock serve reads (created_at, expires_at, expiry): for tests of the
    /// completion window, from `VIBES_SERVE_CLOCK_OFFSET`.
    package var clockOffset: Int64 = 0

    package init(spool: SpoolDirectory) {
        self.spool = spool
    }
}

/// The state the routes share: the store, the settings, the uploads under way.
package final class APIService: Sendable {
    package let store: APIStore
    package let settings: ServeSettings
    private let uploads = NIOLockedValueBox(0)
    /// The time in the last id handed out, so that ids made in the same microsecond still
    /// sort in the order they were made.
    private let lastIDTime = NIOLockedValueBox(Int64(0))

    package init(settings: ServeSettings) {
        self.settings = settings
        self.store = APIStore(spool: settings.spool)
    }

    /// Unix seconds by serve's clock.
    package func now() -> Int64 {
        Int64(Date().timeIntervalSince1970.rounded(.down)) + settings.clockOffset
    }

    /// A new id's HEX part (see ``APIID``): the real time, not the shifted clock, so that ids
    /// keep their order across restarts.
    func newHex() -> String {
        let micros = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
        return APIID.newHex(microseconds: lastIDTime.withLockedValue { last in
            last = max(last + 1, micros)
            return last
        })
    }

    /// Takes an upload slot; `false` when all are taken.
    func beginUpload() -> Bool {
        uploads.withLockedValue { count in
            guard count < settings.maxConcurrentUploads else { return false }
            count += 1
            return true
        }
    }

    func endUpload() {
        uploads.withLockedValue { $0 -= 1 }
    }

    /// Batch `id` as OpenAI's object, read from its record and the spool. A batch past its
    /// `expires_at` that is still queued or running is cancelled here with reason `expired`
    /// (once: the record keeps that it was asked).
    package func batch(id: String) throws -> BatchObject? {
        guard APIID.parseBatch(id) != nil, var record = store.batchRecord(id: id) else { return nil }
        var state = settings.spool.batchState(id: record.spoolID)
        var object = BatchObject(record: record, state: state)
        if !object.status.isFinal, record.cancelReason == nil, now() >= record.expiresAt {
            try settings.spool.requestCancel(id: record.spoolID, expired: true)
            record.cancelReason = "expired"
            record.cancellingAt = now()
            try store.save(record)
            state = settings.spool.batchState(id: record.spoolID)
            object = BatchObject(record: record, state: state)
        }
        return object
    }

    /// Asks for batch `id` to stop. Throws 409 for a batch that has already ended.
    package func cancel(id: String) throws -> BatchObject? {
        guard let current = try batch(id: id), var record = store.batchRecord(id: id) else { return nil }
        guard !current.status.isFinal else {
            throw APIError.conflict("Cannot cancel a batch with status '\(current.status.rawValue)'.")
        }
        if record.cancelReason == nil {
            // The request first: were serve killed before the record, the batch still stops.
            try settings.spool.requestCancel(id: record.spoolID, expired: false)
            record.cancelReason = "user"
            record.cancellingAt = now()
            try store.save(record)
        }
        return BatchObject(record: record, state: settings.spool.batchState(id: record.spoolID))
    }
}
