//! Address pools
