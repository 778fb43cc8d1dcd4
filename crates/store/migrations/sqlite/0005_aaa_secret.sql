-- mobstrap store: secrets every AAA node sharing this database must agree on, created by
-- the first node that needs one and read by the others. Today one: the AES-128 key of the
-- encrypted EAP-AKA / AKA' pseudonyms, `eap-pseudonym-key-0` (docs/protocols.md,
-- "Encrypted pseudonyms"; docs/store.md). Deleting its row makes every node create a new
-- key at its next start and invalidates the pseudonyms issued under the old one (peers
-- then fall back to their permanent identity). Same schema in ../postgres/0005_aaa_secret.sql.

CREATE TABLE aaa_secret (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      BLOB   NOT NULL,
    created_at INTEGER NOT NULL
);
