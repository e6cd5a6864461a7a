//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import CVibesSys

/// What kind of file system holds the spool, from `statfs(2)`'s `f_type`: a local one, where
/// inotify sees every change, or a network, cluster or FUSE one, where another machine's
/// changes reach this one without an inotify event (so the worker also lists its folders).
enum FileSystemKind: Equatable, Sendable {
    case local
    /// Shared over the network or a cluster; the name says which (`NFS`, `CephFS`, …).
    case network(String)
    /// A FUSE file system (JuiceFS, GlusterFS, SSHFS, …: `f_type` does not say which).
    case fuse

    /// `f_type` magic numbers (linux/magic.h, statfs(2), and the vendors' own headers).
    static let networkMagic: [UInt32: String] = [
        0x6969: "NFS",
        0x517B: "SMB",
        0xFF53_4D42: "CIFS",
        0xFE53_4D42: "SMB2",
        0x00C3_6400: "CephFS",
        0x5346_414F: "AFS",
        0x6B41_4653: "kAFS",
        0x0102_1997: "9P",
        0x0BD0_0BD0: "Lustre",
        0x4750_4653: "GPFS",
        0x7375_7245: "Coda",
        0x564C: "NCP",
        0x7461_636F: "OCFS2",
        0x0116_1970: "GFS2",
        0x1983_0326: "BeeGFS",
        0xAAD7_AAEA: "PanFS",
        0x2003_0528: "OrangeFS",
    ]
    static let fuseMagic: UInt32 = 0x6573_5546

    /// The kind for a `statfs` `f_type` (compared as 32 bits: the kernel's magics are).
    init(magic: Int) {
        let magic = UInt32(truncatingIfNeeded: magic)
        if magic == Self.fuseMagic {
            self = .fuse
        } else if let name = Self.networkMagic[magic] {
            self = .network(name)
        } else {
            self = .local
        }
    }

    /// Whether changes made elsewhere may come without an inotify event here.
    var isShared: Bool { self != .local }

    /// For the log: `NFS`, `FUSE`, `local`.
    var name: String {
        switch self {
        case .local: "local"
        case .network(let name): name
        case .fuse: "FUSE"
        }
    }

    /// The kind of the file system holding `path`; `nil` when `statfs` fails.
    static func of(path: String) -> FileSystemKind? {
        var type = 0
        guard vibes_statfs_type(path, &type) == 0 else { return nil }
        return FileSystemKind(magic: type)
    }
}
