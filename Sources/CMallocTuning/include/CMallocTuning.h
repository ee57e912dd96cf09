#ifndef THREATPIPE_CMALLOCTUNING_H
#define THREATPIPE_CMALLOCTUNING_H

/// Fixes glibc's mmap threshold and caps its arenas (see MemoryTuning.swift); a no-op elsewhere.
void threatpipe_tune_malloc(int mmap_threshold_bytes, int arena_max);

#endif
