-- mobstrap store, SQLite: sessions of the 3GPP AAA server (issue #3) that other AAA nodes
-- sharing the database must see: Diameter authorizations (SWm, STa, EAP application), the
-- PDN GW / LMA registrations gateways make over S6b, and the MAG-LMA key of seed 003.
-- Keep in step with ../postgres/0002_aaa_session.sql (docs/store.md, docs/aaa.md).

CREATE TABLE aaa_session (
    session_id      TEXT    NOT NULL PRIMARY KEY,
    imsi            TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    -- swm, sta, eap (RFC 4072 application), s6b
    kind            TEXT    NOT NULL,
    -- Diameter identity of the client (ePDG, MAG, PDN GW) and of the AAA node serving it
    peer            TEXT    NOT NULL,
    aaa_host        TEXT    NOT NULL,
    -- the user's permanent NAI (Mobile-Node-Identifier)
    nai             TEXT    NOT NULL,
    apn             TEXT,
    -- S6b: the registered PDN GW / LMA (its identity, and its address if it sent one)
    gateway_host    TEXT,
    gateway_address TEXT,
    visited_network TEXT,
    -- seed 003: the MAG-LMA key derived from this session's EMSK, and the LMA it is bound to
    mag_lma_key     BLOB,
    lma_identity    TEXT,
    -- milliseconds since the Unix epoch; expires_at in seconds
    created_ms      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX aaa_session_imsi ON aaa_session (imsi);
CREATE INDEX aaa_session_expires ON aaa_session (expires_at);
