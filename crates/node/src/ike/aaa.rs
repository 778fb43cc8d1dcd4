//! AAA
