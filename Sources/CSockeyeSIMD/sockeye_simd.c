/* sockeye_simd.h is header-only; SwiftPM needs one source file per C target. */
