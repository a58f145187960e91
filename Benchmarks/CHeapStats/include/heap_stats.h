#ifndef HEAP_STATS_H
#define HEAP_STATS_H
#include <stddef.h>

/// Bytes malloc has handed out and not yet taken back (glibc's mallinfo2().uordblks), or 0
/// where that is not available.
size_t heap_stats_in_use(void);

#endif
