#ifndef VIBES_SPOOL_CINOTIFYTOOLS_SHIM_H
#define VIBES_SPOOL_CINOTIFYTOOLS_SHIM_H

// <sys/inotify.h> must come first: inotifytools.h uses its types without including it.
#include <sys/inotify.h>
#include <inotifytools/inotifytools.h>

/// The event's trailing flexible `name[]` does not import into Swift; this returns it.
static inline const char *vibes_inotify_event_name(const struct inotify_event *event) {
    return event->len > 0 ? event->name : "";
}

#endif
