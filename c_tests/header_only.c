/*
 * The header alone, compiled by tests/c_abi.rs with -Wall -Wextra -Wpedantic -Werror as C99,
 * C11, C++17 and C++20 (this file is valid in both languages): fixed-width types, unsigned
 * constants that print with %u, version macros. Compile-only: nothing here is run.
 */
#include <stdio.h>

#include "eta_hamming.h"

/* eta_status and eta_isa are 32 bits wide whatever the compiler picks for enums. */
typedef char status_is_32_bits[sizeof(eta_status) == 4 ? 1 : -1];
typedef char isa_is_32_bits[sizeof(eta_isa) == 4 ? 1 : -1];
typedef char version_number_matches[ETA_HAMMING_VERSION_NUMBER ==
                                            ETA_HAMMING_VERSION_MAJOR * 1000000u +
                                                ETA_HAMMING_VERSION_MINOR * 1000u +
                                                ETA_HAMMING_VERSION_PATCH
                                        ? 1
                                        : -1];

int header_only_main(void);
int header_only_main(void) {
    status_is_32_bits a = {0};
    isa_is_32_bits b = {0};
    version_number_matches c = {0};
    (void)a, (void)b, (void)c;
    /* -Werror=format: the constants are unsigned int. */
    printf("%u %u %u %u\n", ETA_EMPTY_INDEX, ETA_MAX_HISTORY_LEN, ETA_MAX_BITS, ETA_EMPTY_DISTANCE);
    printf("%u.%u.%u\n", ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR, ETA_HAMMING_VERSION_PATCH);
    if (!eta_version_compatible(ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR)) return 1;
    eta_status s = eta_isa_force(ETA_ISA_SCALAR);
    return s == ETA_STATUS_OK ? 0 : 1;
}
