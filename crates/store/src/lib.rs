//! # mobstrap-store: persistent state
//!
//! Subscribers (the embedded HSS), SQN, profiles, sessions and address pools, behind one
//! trait with two back ends chosen by URL: SQLite (the default) and PostgreSQL (several nodes
//! sharing state). One schema, migrations per database.
