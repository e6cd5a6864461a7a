//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

/// `statfs`'s `f_type` to a kind, and what the kind means for polling: plain values.
@Suite struct FileSystemKindTests {
    @Test(arguments: [
        (0x6969, FileSystemKind.network("NFS")),
        (0xFF53_4D42, .network("CIFS")),
        (0xFE53_4D42, .network("SMB2")),
        (0x517B, .network("SMB")),
        (0x00C3_6400, .network("CephFS")),
        (0x6573_5546, .fuse),  // JuiceFS, GlusterFS, SSHFS, …
        (0x5346_414F, .network("AFS")),
        (0x0102_1997, .network("9P")),
        (0x0BD0_0BD0, .network("Lustre")),
        (0x4750_4653, .network("GPFS")),
        (0xEF53, .local),  // ext2/3/4
        (0x5846_5342, .local),  // XFS
        (0x9123_683E, .local),  // Btrfs
        (0x0102_1994, .local),  // tmpfs
        (0x794C_7630, .local),  // overlayfs
    ])
    func magicToKind(magic: Int, kind: FileSystemKind) {
        #expect(FileSystemKind(magic: magic) == kind)
    }

    @Test func aMagicIsReadAsThirtyTwoBits() {
        // f_type is a signed long: CIFS's magic may come sign-extended.
        #expect(FileSystemKind(magic: Int(Int32(bitPattern: 0xFF53_4D42))) == .network("CIFS"))
    }

    @Test func pollingIsEverySecondOnSharedFileSystemsOffOnLocalOnesUnlessSet() {
        var configuration = WorkerConfiguration(spool: SpoolDirectory("/nowhere"))
        #expect(configuration.pollPeriod(on: .fuse) == .seconds(1))
        #expect(configuration.pollPeriod(on: .network("NFS")) == .seconds(1))
        #expect(configuration.pollPeriod(on: .local) == nil)
        #expect(configuration.pollPeriod(on: nil) == nil, "statfs failed: as a local one")
        configuration.pollInterval = .zero
        #expect(configuration.pollPeriod(on: .fuse) == nil, "0: off")
        configuration.pollInterval = .milliseconds(250)
        #expect(configuration.pollPeriod(on: .local) == .milliseconds(250))
        #expect(configuration.pollPeriod(on: .fuse) == .milliseconds(250))
    }

    @Test func pollIntervalIsResolvedFromTheFlag() throws {
        var settings = RunSettings()
        #expect(try WorkerConfiguration.resolve(settings, environment: [:]).pollInterval == nil)
        settings.pollInterval = 0
        #expect(try WorkerConfiguration.resolve(settings, environment: [:]).pollInterval == .zero)
        settings.pollInterval = 2.5
        #expect(try WorkerConfiguration.resolve(settings, environment: [:]).pollInterval == .milliseconds(2500))
        settings.pollInterval = -1
        #expect(throws: ConfigurationError.self) { try WorkerConfiguration.resolve(settings, environment: [:]) }
    }

    @Test func theSpoolsOwnFileSystemIsRead() {
        #expect(FileSystemKind.of(path: "/") != nil)
        #expect(FileSystemKind.of(path: "/no/such/dir") == nil)
    }
}
