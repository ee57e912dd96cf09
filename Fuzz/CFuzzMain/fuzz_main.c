// SwiftPM links an executable's entry point as `<module>_main`; in the libFuzzer build (-Xcc -DTHREATPIPE_FUZZING)
// that is libFuzzer's driver running LLVMFuzzerTestOneInput (defined in Swift, FuzzTargets.swift). In a plain build
// the Swift @main replay runner is the entry point and this file defines nothing.
#include "CFuzzMain.h"

#ifdef THREATPIPE_FUZZING
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int threatpipe_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
#endif
