# Shared by the set-up scripts: install what building vibes-spool needs.

# libinotifytools (no pkg-config file: the package target links -linotifytools).
ensure_build_deps() {
    if [ ! -e /usr/include/inotifytools/inotifytools.h ]; then
        echo "installing libinotifytools0-dev (apt-get)" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libinotifytools0-dev >/dev/null
    fi
    if ! command -v swift >/dev/null; then
        if [ -x /opt/swift/usr/bin/swift ]; then
            export PATH="/opt/swift/usr/bin:$PATH"
        else
            echo "swift not found: install a Swift 6 toolchain (https://www.swift.org/install/linux/)" >&2
            exit 1
        fi
    fi
}
