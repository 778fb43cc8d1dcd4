-- mobstrap store, PostgreSQL: one pseudonym and one fast re-authentication identity per
-- subscriber and method. A new one replaces the older one in place (an upsert on
-- (imsi, method)), where before every issued identity was a row of its own and each group
-- commit ran a DELETE of the superseded rows: that DELETE cost more than the inserts
-- (docs/performance.md, 2026-11-23). The username stays unique: it is how a peer's identity
-- is looked up. Rows kept: the latest of each subscriber and method (the one the peer was
-- sent last). Same schema in ../sqlite/0004_identity_per_subscriber.sql.

CREATE TABLE pseudonym_keep AS
    SELECT imsi, method, username, expires_at FROM pseudonym p
    WHERE NOT EXISTS (SELECT 1 FROM pseudonym q
                      WHERE q.imsi = p.imsi AND q.method = p.method
                        AND (q.expires_at > p.expires_at
                             OR (q.expires_at = p.expires_at AND q.username > p.username)));
DROP TABLE pseudonym;
CREATE TABLE pseudonym (
    imsi       TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    method     TEXT    NOT NULL,
    username   TEXT    NOT NULL UNIQUE,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (imsi, method)
);
CREATE INDEX pseudonym_expires ON pseudonym (expires_at);
INSERT INTO pseudonym (imsi, method, username, expires_at)
    SELECT imsi, method, username, expires_at FROM pseudonym_keep;
DROP TABLE pseudonym_keep;

CREATE TABLE reauth_identity_keep AS
    SELECT imsi, method, username, counter, mk, k_re, k_aut, k_encr, expires_at
    FROM reauth_identity p
    WHERE NOT EXISTS (SELECT 1 FROM reauth_identity q
                      WHERE q.imsi = p.imsi AND q.method = p.method
                        AND (q.expires_at > p.expires_at
                             OR (q.expires_at = p.expires_at AND q.username > p.username)));
DROP TABLE reauth_identity;
CREATE TABLE reauth_identity (
    imsi       TEXT    NOT NULL REFERENCES subscriber (imsi) ON DELETE CASCADE,
    method     TEXT    NOT NULL,
    username   TEXT    NOT NULL UNIQUE,
    counter    INTEGER NOT NULL CHECK (counter BETWEEN 0 AND 65535),
    mk         BYTEA   NOT NULL,
    k_re       BYTEA   NOT NULL,
    k_aut      BYTEA   NOT NULL,
    k_encr     BYTEA   NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (imsi, method)
);
CREATE INDEX reauth_identity_expires ON reauth_identity (expires_at);
INSERT INTO reauth_identity (imsi, method, username, counter, mk, k_re, k_aut, k_encr, expires_at)
    SELECT imsi, method, username, counter, mk, k_re, k_aut, k_encr, expires_at
    FROM reauth_identity_keep;
DROP TABLE reauth_identity_keep;
