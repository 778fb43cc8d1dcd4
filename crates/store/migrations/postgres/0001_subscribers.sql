-- mobstrap store, PostgreSQL: the embedded HSS (subscribers, SQN high-water marks, APN
-- profiles) and the EAP-AKA temporary identities. Keep in step with
-- ../sqlite/0001_subscribers.sql (same tables, columns and meaning; docs/store.md).

CREATE TABLE subscriber (
    imsi               TEXT    NOT NULL PRIMARY KEY,
    mnc_len            INTEGER NOT NULL CHECK (mnc_len IN (2, 3)),
    k                  BYTEA   NOT NULL CHECK (octet_length(k) = 16),
    opc                BYTEA   NOT NULL CHECK (octet_length(opc) = 16),
    opc_from_op        BOOLEAN NOT NULL DEFAULT FALSE,
    amf                BYTEA   NOT NULL CHECK (octet_length(amf) = 2),
    -- The next SEQ (TS 33.102 Annex C) not yet reserved by any node: every SEQ below it may
    -- have been handed out. Only ever increased, except by an explicit administrative reset.
    seq_hwm            BIGINT  NOT NULL CHECK (seq_hwm >= 1 AND seq_hwm <= 8796093022208),
    msisdn             TEXT,
    default_apn        TEXT,
    static_ipv4        TEXT,
    static_ipv6_prefix TEXT,
    home_agent         TEXT,
    mip4_fha           TEXT,
    access_types       TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);

CREATE TABLE apn_profile (
    imsi            TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    apn             TEXT    NOT NULL,
    gateway         TEXT    NOT NULL,
    visited_allowed BOOLEAN NOT NULL,
    pdn_type        TEXT    NOT NULL,
    PRIMARY KEY (imsi, apn)
);

CREATE TABLE pseudonym (
    username   TEXT    NOT NULL PRIMARY KEY,
    imsi       TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    method     TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX pseudonym_imsi ON pseudonym (imsi);
CREATE INDEX pseudonym_expires ON pseudonym (expires_at);

CREATE TABLE reauth_identity (
    username   TEXT    NOT NULL PRIMARY KEY,
    imsi       TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    method     TEXT    NOT NULL,
    counter    INTEGER NOT NULL CHECK (counter BETWEEN 0 AND 65535),
    mk         BYTEA   NOT NULL,
    k_re       BYTEA   NOT NULL,
    k_aut      BYTEA   NOT NULL,
    k_encr     BYTEA   NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX reauth_identity_imsi ON reauth_identity (imsi);
CREATE INDEX reauth_identity_expires ON reauth_identity (expires_at);
