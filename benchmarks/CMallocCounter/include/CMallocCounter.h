#ifndef SOCKEYE_BENCH_MALLOC_COUNTER_H
#define SOCKEYE_BENCH_MALLOC_COUNTER_H
/* Counts heap allocations made by the whole process (Swift runtime, Foundation, jansson,
 * simdjson, libstdc++): this target defines malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign, valloc and pvalloc, so linking it into an executable interposes them
 * for every shared library too. Each call bumps one counter, then forwards to glibc's allocator.
 *
 * Link it into the benchmark executable only, never into a library. */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign,
 *  valloc, pvalloc) since the process started, from all threads. Read it before and after a
 *  loop and subtract. */
uint64_t sockeye_bench_allocation_count(void);

/** 1 if the interposed allocator has seen at least one call, i.e. the interposition works. */
int sockeye_bench_allocation_counter_active(void);

#ifdef __cplusplus
}
#endif
#endif
