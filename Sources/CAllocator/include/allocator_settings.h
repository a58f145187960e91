#ifndef ALLOCATOR_SETTINGS_H
#define ALLOCATOR_SETTINGS_H

/// Fixes glibc's mmap threshold at `bytes` (which also turns off its dynamic adjustment);
/// returns 1 on success, 0 where it failed or there is no such setting (off Linux).
int allocator_set_mmap_threshold(int bytes);

#endif
