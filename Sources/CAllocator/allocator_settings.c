#include "allocator_settings.h"
#if defined(__linux__)
#include <malloc.h>
#endif

int allocator_set_mmap_threshold(int bytes) {
#if defined(__linux__)
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}
