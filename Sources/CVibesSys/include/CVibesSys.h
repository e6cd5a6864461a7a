#ifndef VIBES_SPOOL_CVIBESSYS_H
#define VIBES_SPOOL_CVIBESSYS_H

/// `renameat2(2)`, which glibc declares only under _GNU_SOURCE (not visible to Swift).
/// Returns -1 with errno set, as the system call does.
int vibes_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// RENAME_NOREPLACE from <linux/fs.h>.
#define VIBES_RENAME_NOREPLACE 1u

/// `statfs(2)`'s `f_type` of the file system holding `path` (<sys/vfs.h> is not in Swift's
/// Glibc module). Returns 0, or -1 with errno set.
int vibes_statfs_type(const char *path, long *type);

/// `sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)` (also _GNU_SOURCE only): starts
/// writing a range back to disk without waiting for it.
int vibes_start_writeback(int fd, long long offset, long long length);

#endif
