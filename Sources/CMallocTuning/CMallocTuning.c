#include "CMallocTuning.h"

#include <stdlib.h> /* defines __GLIBC__ where glibc is the C library */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void threatpipe_tune_malloc(int mmap_threshold_bytes, int arena_max) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, mmap_threshold_bytes);
    mallopt(M_ARENA_MAX, arena_max);
#else
    (void)mmap_threshold_bytes;
    (void)arena_max;
#endif
}
