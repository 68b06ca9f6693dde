/*
 * Must NOT compile with -Werror (tests/c_abi.rs checks that it fails, with a warning about the
 * unused result): a status result ignored silently is an error at the call site (ETA_MUST_USE).
 */
#include "eta_hamming.h"

int ignored_status_main(void);
int ignored_status_main(void) {
    eta_isa_force(ETA_ISA_SCALAR);
    return 0;
}
