import VigilStore

/// Fills a store with synthetic events, for the hunting-query benchmarks (`Benchmarks/HuntingQueries`).
public enum EventFixture {
    /// Inserts `events` events spread over `machines` Linux machines, 100 ms apart: 70 % process
    /// creations (8 images under 5 parents, 1 in 50 run by www-data), 20 % network connections
    /// and 10 % SSH authentication messages (1 in 4 a failure). One SQL statement generates them,
    /// so that ten million take a minute, not an import's worth of parsing.
    public static func fill(_ store: Store, events: Int, machines: Int) throws {
        let connection = store.connection
        try connection.transaction {
            try connection.execute("""
                WITH RECURSIVE counter(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM counter LIMIT \(machines))
                INSERT INTO machines (hostname, os_platform, first_seen, last_seen, event_count)
                SELECT printf('host-%d', n), 'linux', 0, 0, 0 FROM counter
                """)
            try connection.execute("""
                WITH RECURSIVE counter(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM counter LIMIT \(events))
                INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, line, future_time)
                SELECT n, 1800000000000000 - n * 100000, n % \(machines) + 1, 'bench', 'json', 'linux',
                    CASE WHEN n % 10 < 7 THEN 'process_creation' WHEN n % 10 < 9 THEN 'network_connection' ELSE NULL END,
                    CASE WHEN n % 10 = 9 THEN 'sshd' ELSE NULL END,
                    CASE WHEN n % 10 < 7 THEN printf('{"Image":"/usr/bin/%s","ParentImage":"/usr/sbin/%s","User":"%s","CommandLine":"%s --run %d"}',
                            rtrim(substr('bash     python3  curl     git      ls       sh       systemctlssh      ', (n % 8) * 9 + 1, 9)),
                            rtrim(substr('nginx  cron   sshd   systemdapache2', (n % 5) * 7 + 1, 7)),
                            CASE WHEN n % 50 = 0 THEN 'www-data' ELSE 'svc' END, 'job', n)
                        WHEN n % 10 < 9 THEN printf('{"Image":"/usr/bin/curl","DestinationIp":"10.%d.%d.%d","DestinationPort":"443"}',
                            n % 7, n % 13, n % 251)
                        ELSE printf('{"message":"%s password for user%d from 203.0.113.%d port %d ssh2","User":"user%d","SourceIp":"203.0.113.%d"}',
                            CASE WHEN n % 40 = 9 THEN 'Failed' ELSE 'Accepted' END, n % 20, n % 200, 40000 + n % 20000, n % 20, n % 200)
                    END,
                    printf('record %d', n), n, 0
                FROM counter
                """)
        }
    }
}
