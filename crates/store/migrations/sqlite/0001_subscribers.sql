-- mobstrap store, SQLite: the embedded HSS (subscribers, SQN high-water marks, APN
-- profiles) and the EAP-AKA temporary identities. Keep in step with
-- ../postgres/0001_subscribers.sql (same tables, columns and meaning; docs/store.md).

CREATE TABLE subscriber (
    imsi               TEXT    NOT NULL PRIMARY KEY,
    mnc_len            INTEGER NOT NULL CHECK (mnc_len IN (2, 3)),
    k                  BLOB    NOT NULL CHECK (length(k) = 16),
    opc                BLOB    NOT NULL CHECK (length(opc) = 16),
    opc_from_op        BOOLEAN NOT NULL DEFAULT FALSE,
    amf                BLOB    NOT NULL CHECK (length(amf) = 2),
    -- The next SEQ (TS 33.102 Annex C) not yet reserved by any node: every SEQ below it may
    -- have been handed out. Only ever increased, except by an explicit administrative reset.
    seq_hwm            INTEGER NOT NULL CHECK (seq_hwm >= 1 AND seq_hwm <= 8796093022208),
    msisdn             TEXT,
    default_apn        TEXT,
    static_ipv4        TEXT,
    static_ipv6_prefix TEXT,
    home_agent         TEXT,
    mip4_fha           TEXT,
    access_types       TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE apn_profile (
    imsi            TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    apn             TEXT    NOT NULL,
    gateway         TEXT    NOT NULL,
    visited_allowed BOOLEAN NOT NULL,
    pdn_type        TEXT    NOT NULL,
    PRIMARY KEY (imsi, apn)
) WITHOUT ROWID;

CREATE TABLE pseudonym (
    username   TEXT    NOT NULL PRIMARY KEY,
    imsi       TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    method     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pseudonym_imsi ON pseudonym (imsi);
CREATE INDEX pseudonym_expires ON pseudonym (expires_at);

CREATE TABLE reauth_identity (
    username   TEXT    NOT NULL PRIMARY KEY,
    imsi       TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    method     TEXT    NOT NULL,
    counter    INTEGER NOT NULL CHECK (counter BETWEEN 0 AND 65535),
    mk         BLOB    NOT NULL,
    k_re       BLOB    NOT NULL,
    k_aut      BLOB    NOT NULL,
    k_encr     BLOB    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX reauth_identity_imsi ON reauth_identity (imsi);
CREATE INDEX reauth_identity_expires ON reauth_identity (expires_at);
