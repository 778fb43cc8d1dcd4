-- mobstrap store: address pool allocations of the gateways (issue #5, `mobstrap gw`): one row
-- per allocated slot (an IPv4 address or an IPv6 prefix, numbered from 0 within its pool),
-- owned by one mobility session (NAI/APN). The pools themselves (ranges) are configuration;
-- rows survive a restart, so a session gets its address back. Same schema in both back ends.

CREATE TABLE pool_allocation (
    pool       TEXT   NOT NULL,
    slot       BIGINT NOT NULL,
    owner      TEXT   NOT NULL,
    -- seconds since the Unix epoch; 0: no expiry
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (pool, slot)
);
CREATE UNIQUE INDEX pool_allocation_owner ON pool_allocation (pool, owner);
CREATE INDEX pool_allocation_expires ON pool_allocation (expires_at);
