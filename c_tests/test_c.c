/*
 * The C ABI from C11: every entry point of eta_hamming.h against the reference in reference.h,
 * every error path, under every instruction set this CPU runs (see suite.h). Built and run by
 * tests/c_abi.rs against the staticlib, the cdylib, with ASan/UBSan and under valgrind.
 */
#define _GNU_SOURCE /* feenableexcept (glibc) */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#undef NDEBUG
#include <assert.h>

#include "suite.h"

#if !defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L
#error "test_c.c is a C11 test"
#endif

int main(void) {
    run_suite("test_c");
    return 0;
}
