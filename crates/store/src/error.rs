//! Errors of the store. None carries secret material.

use crate::model::FieldError;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL could not be understood.
    #[error("database URL {url:?}: {reason}")]
    Url {
        /// The URL (as given; a password in it is masked).
        url: String,
        /// Why.
        reason: String,
    },
    /// A value was rejected.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// No subscriber with this IMSI.
    #[error("subscriber {imsi} not found")]
    NotFound {
        /// The IMSI.
        imsi: String,
    },
    /// `add` of an IMSI that is already provisioned.
    #[error("subscriber {imsi} already exists")]
    Exists {
        /// The IMSI.
        imsi: String,
    },
    /// A new pseudonym / re-authentication identity was not stored: its username is another
    /// subscriber's current one (a 96-bit random collision).
    #[error("subscriber {imsi}: the new identity's username is another subscriber's")]
    IdentityTaken {
        /// The IMSI the identity was issued to.
        imsi: String,
    },
    /// The subscriber's SEQ space (2^43 values) is used up; the USIM needs a new key.
    #[error("subscriber {imsi}: SQN space exhausted")]
    SqnExhausted {
        /// The IMSI.
        imsi: String,
    },
    /// A stored value does not decode (edited by hand, or a newer schema).
    #[error("stored {what} of {key}: {reason}")]
    Corrupt {
        /// The column.
        what: &'static str,
        /// The row.
        key: String,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Every slot of an address pool is allocated.
    #[error("address pool {pool} exhausted")]
    PoolExhausted {
        /// The pool.
        pool: String,
    },
    /// The store's writer task has stopped (the store is shutting down).
    #[error("store is closed")]
    Closed,
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A copy to hand to each of several waiters of one failed batch (`sqlx::Error` is not
    /// `Clone`; the copy keeps its message).
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::Url { url, reason } => Error::Url {
                url: url.clone(),
                reason: reason.clone(),
            },
            Error::Invalid(e) => Error::Invalid(e.clone()),
            Error::NotFound { imsi } => Error::NotFound { imsi: imsi.clone() },
            Error::Exists { imsi } => Error::Exists { imsi: imsi.clone() },
            Error::IdentityTaken { imsi } => Error::IdentityTaken { imsi: imsi.clone() },
            Error::SqnExhausted { imsi } => Error::SqnExhausted { imsi: imsi.clone() },
            Error::Corrupt { what, key, reason } => Error::Corrupt {
                what,
                key: key.clone(),
                reason: reason.clone(),
            },
            Error::Database(e) => Error::Database(sqlx::Error::Protocol(e.to_string())),
            Error::Migrate(e) => Error::Database(sqlx::Error::Protocol(e.to_string())),
            Error::PoolExhausted { pool } => Error::PoolExhausted { pool: pool.clone() },
            Error::Closed => Error::Closed,
        }
    }
}
