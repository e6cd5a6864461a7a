#include <sys/vfs.h>
#include "CVibesSys.h"

int vibes_statfs_type(const char *path, long *type) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    *type = (long)info.f_type;
    return 0;
}
