/* HTTP/0.9 (hq-interop) on peer input: the harness of fuzz_hq_harness.h. */
#include "fuzz_hq_harness.h"
