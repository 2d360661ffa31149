-- The compatibility list SQLite's 0003 seeds, which 0001 left out: without it no machine on
-- PostgreSQL showed as supported. Operators extend it with `vigil compatibility add`.
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
    ('android', '', '15', ''), ('android', '', '16', '')
ON CONFLICT DO NOTHING;
