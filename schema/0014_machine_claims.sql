-- A machine's OS platform and version are set by the first data that names them. Later data
-- that claims another platform or version for the same host name never overwrites them: each
-- distinct claim is kept here, and the machine is listed for review until an analyst looks.
CREATE TABLE machine_claims (
    machine_id INTEGER NOT NULL,
    integration TEXT NOT NULL,
    os_platform TEXT NOT NULL,
    os_version TEXT NOT NULL,    -- '' when the claim names no version
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (machine_id, integration, os_platform, os_version)
) WITHOUT ROWID;
