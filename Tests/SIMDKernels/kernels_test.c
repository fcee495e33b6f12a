/*
 * Checks the byte-classification kernels of Sources/CSockeyeSIMD against a one-byte-at-a-time
 * reference: every byte value at every position, random blocks, and every tail length. Built
 * once with the platform's vector kernel and once with the portable loop (run.sh).
 */
#include "sockeye_simd.h"

#include <stdio.h>
#include <stdlib.h>

static int failures;

static int is_stop(uint8_t b) { return b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80; }

static uint64_t reference(const uint8_t *p, size_t n) {
    uint64_t mask = 0;
    for (size_t k = 0; k < 64; k++) {
        if (k >= n || is_stop(p[k])) mask |= (uint64_t)1 << k;
    }
    return mask;
}

static void expect(uint64_t got, uint64_t want, const char *what, size_t a, size_t b) {
    if (got != want) {
        failures++;
        if (failures <= 10) {
            fprintf(stderr, "FAIL %s (%zu, %zu): got %016llx want %016llx\n", what, a, b,
                    (unsigned long long)got, (unsigned long long)want);
        }
    }
}

int main(void) {
    uint8_t block[64];
    /* Every byte value at every position of a block of plain ASCII. */
    for (size_t position = 0; position < 64; position++) {
        for (unsigned value = 0; value < 256; value++) {
            for (size_t k = 0; k < 64; k++) block[k] = 'a';
            block[position] = (uint8_t)value;
            expect(sockeye_simd_string_stops64(block), reference(block, 64), "one byte", position, value);
            expect(sockeye_simd_string_stops(block + (position & ~(size_t)15)),
                   reference(block + (position & ~(size_t)15), 64) & 0xFFFF, "16 bytes", position, value);
        }
    }
    /* Random blocks, and every tail length of each. */
    srand(12345);
    for (size_t round = 0; round < 20000; round++) {
        for (size_t k = 0; k < 64; k++) {
            int r = rand();
            block[k] = (r & 3) ? (uint8_t)(0x20 + (r >> 2) % 0x60) : (uint8_t)(r >> 2);
        }
        expect(sockeye_simd_string_stops64(block), reference(block, 64), "random", round, 64);
        size_t n = 1 + (size_t)rand() % 63;
        expect(sockeye_simd_string_stops_tail(block, n), reference(block, n), "tail", round, n);
    }
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("kernels agree with the reference (16 384 single-byte blocks, 20 000 random blocks and tails)\n");
    return 0;
}
