/*
 * sockeye_simd.h: the few byte-classification kernels the envelope scanner runs on 16 bytes
 * at a time. Swift has no portable "compare bytes, gather one bit per byte" operation, so
 * these are static inline C, which the Swift compiler inlines into the scanner.
 *
 * sockeye_simd_string_stops reads exactly 16 bytes at `p` (the caller checks that they are
 * in its buffer) and returns a mask with bit k set for byte p[k]. Kernels: SSE2 on x86-64
 * (always present there), NEON on AArch64, and a portable byte loop elsewhere. The 64-byte
 * variants build on it. Pure functions; thread-safe.
 * Internal to Sockeye: not part of include/sockeye.h.
 */
#ifndef SOCKEYE_SIMD_H
#define SOCKEYE_SIMD_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

/* Bytes a string scanner must stop at: '"', '\\', a control character (< 0x20) or a byte
 * of a multi-byte UTF-8 sequence (>= 0x80). */
static inline uint32_t sockeye_simd_string_stops(const uint8_t *p) {
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x22));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x5C));
    /* Signed compare: bytes >= 0x80 are negative, so this catches them with the controls. */
    __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low));
#elif defined(__aarch64__) && defined(__ARM_NEON)
    uint8x16_t v = vld1q_u8(p);
    uint8x16_t hit = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(0x22)), vceqq_u8(v, vdupq_n_u8(0x5C))),
                              vorrq_u8(vcltq_u8(v, vdupq_n_u8(0x20)), vcgeq_u8(v, vdupq_n_u8(0x80))));
    static const uint8_t weights[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t bits = vandq_u8(hit, vld1q_u8(weights));
    return (uint32_t)vaddv_u8(vget_low_u8(bits)) | ((uint32_t)vaddv_u8(vget_high_u8(bits)) << 8);
#else
    uint32_t mask = 0;
    for (int k = 0; k < 16; k++) {
        uint8_t b = p[k];
        if (b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80) mask |= 1u << k;
    }
    return mask;
#endif
}

/* The string stops among the 64 bytes at `p` (all 64 must be readable): bit k for p[k]. */
static inline uint64_t sockeye_simd_string_stops64(const uint8_t *p) {
    return (uint64_t)sockeye_simd_string_stops(p)
        | (uint64_t)sockeye_simd_string_stops(p + 16) << 16
        | (uint64_t)sockeye_simd_string_stops(p + 32) << 32
        | (uint64_t)sockeye_simd_string_stops(p + 48) << 48;
}

/* The same for the last `n` bytes of a buffer (0 < n < 64): reads only those; the 64 - n
 * positions past the end are reported as stops, so a scan that reaches them stops there. */
static inline uint64_t sockeye_simd_string_stops_tail(const uint8_t *p, size_t n) {
    uint8_t block[64] = {0};
    __builtin_memcpy(block, p, n);
    return sockeye_simd_string_stops64(block);
}

#endif /* SOCKEYE_SIMD_H */
