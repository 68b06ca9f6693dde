//! C ABI (see include/eta_hamming.h).
