// The NATS C client (Debian's libnats-dev) as a Swift module. Only SockeyeJetStream imports
// it; the rest of the daemon sees the JetStreamConnection protocol.
#ifndef SOCKEYE_CNATS_SHIM_H
#define SOCKEYE_CNATS_SHIM_H

#include <stdbool.h>
#include <nats/nats.h>

// nats_CheckCompatibility() is a function-like macro, which Swift does not import: true when
// the headers this was built with match the library loaded at run time.
static inline bool sockeye_nats_compatible(void) { return nats_CheckCompatibility(); }

#endif
