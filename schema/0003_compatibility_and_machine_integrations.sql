-- Which OS versions Vigil supports per platform. Operators extend it with `vigil compatibility add`.
-- A Linux row names a distribution; a version matches when the machine's reported version
-- starts with it (22.04 matches 22.04.4). Other platforms match on the version alone.
CREATE TABLE compatibility (
    platform     TEXT NOT NULL,             -- linux, macos, ios, android
    distribution TEXT NOT NULL DEFAULT '',  -- Linux only: ubuntu, debian, rhel, …
    version      TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, distribution, version)
);

INSERT INTO compatibility (platform, distribution, version, note) VALUES
    ('linux', 'ubuntu', '20.04', 'LTS'), ('linux', 'ubuntu', '22.04', 'LTS'), ('linux', 'ubuntu', '24.04', 'LTS'),
    ('linux', 'debian', '11', ''), ('linux', 'debian', '12', ''), ('linux', 'debian', '13', ''),
    ('linux', 'rhel', '8', 'Red Hat Enterprise Linux'), ('linux', 'rhel', '9', 'Red Hat Enterprise Linux'),
    ('linux', 'rocky', '8', ''), ('linux', 'rocky', '9', ''), ('linux', 'almalinux', '8', ''), ('linux', 'almalinux', '9', ''),
    ('linux', 'amazon', '2', 'Amazon Linux 2'), ('linux', 'amazon', '2023', 'Amazon Linux 2023'),
    ('linux', 'sles', '15', 'SUSE Linux Enterprise Server'), ('linux', 'fedora', '40', ''), ('linux', 'fedora', '41', ''),
    ('macos', '', '13', 'Ventura'), ('macos', '', '14', 'Sonoma'), ('macos', '', '15', 'Sequoia'), ('macos', '', '26', 'Tahoe'),
    ('ios', '', '16', ''), ('ios', '', '17', ''), ('ios', '', '18', ''), ('ios', '', '26', ''),
    ('android', '', '11', ''), ('android', '', '12', ''), ('android', '', '13', ''), ('android', '', '14', ''),
    ('android', '', '15', ''), ('android', '', '16', '');

-- Which integrations each machine has reported through, so a machine whose every
-- integration is off shows as inactive.
CREATE TABLE machine_integrations (
    machine_id  INTEGER NOT NULL REFERENCES machines(id),
    integration TEXT NOT NULL REFERENCES integrations(name),
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (machine_id, integration)
) WITHOUT ROWID;
