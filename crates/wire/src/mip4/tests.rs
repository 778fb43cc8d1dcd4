//! Mobile IPv4 tests.
