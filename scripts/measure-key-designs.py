# Candidate designs for the import's duplicate check (the unique content-key index on events),
# measured side by side in one run: N event-shaped rows (the events table's columns, a ~250-byte
# fields text and a 100-byte raw text), 8,192 per transaction, WAL, synchronous=NORMAL, a 64 MiB
# cache, through Python's sqlite3 (the same system SQLite; Python's per-row cost is the same for
# every design, so compare the rates with each other, not with `vigil bench`).
#
#   python3 scripts/measure-key-designs.py [N]      (default 1,000,000; the README used 2,000,000)
import os, random, sqlite3, sys, time
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BATCH = 8192
COLS = "time INTEGER NOT NULL, machine_id INTEGER NOT NULL, integration TEXT NOT NULL, source_format TEXT NOT NULL, product TEXT, category TEXT, service TEXT, fields TEXT NOT NULL, raw TEXT NOT NULL, import_id INTEGER, line INTEGER"
rng = random.Random(7)
payload = [('{"CommandLine":"' + os.urandom(100).hex() + '"}', os.urandom(50).hex()) for _ in range(BATCH)]
def rows(batch, keyfn, sort):
    out = []
    for n in range(BATCH):
        t = (batch * BATCH + n) * 1000
        f, r = payload[n]
        out.append((keyfn(t), t, n % 50, "json", "json", "linux", "process_creation", "", f, r, 1, n))
    if sort: out.sort(key=lambda row: row[0])
    return out
def rand64(t): return rng.getrandbits(63)
def timekey(t): return ((t // 1000) << 20) | rng.getrandbits(20)   # time-ordered high bits, hash low bits
designs = [
    ("physical (no key index)", "", rand64, False),
    ("unique index on a random 64-bit key (before)", "CREATE UNIQUE INDEX k ON events(key)", rand64, False),
    ("the same, each batch sorted by key", "CREATE UNIQUE INDEX k ON events(key)", rand64, True),
    ("unique index on (day, key)", "CREATE UNIQUE INDEX k ON events(time / 86400000000, key)", rand64, False),
    ("unique index on a time-ordered key", "CREATE UNIQUE INDEX k ON events(key)", timekey, False),
    # No index at all: the key is the rowid. Event ids would become 62-bit numbers, beyond the
    # 2^53 a JavaScript client reads exactly.
    ("time-ordered key as the rowid, each batch sorted", "ROWID", timekey, True),
]
for name, index, keyfn, sort in designs:
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "vigil-key-designs.db")
    for suffix in ("", "-wal", "-shm"):
        try: os.remove(path + suffix)
        except FileNotFoundError: pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL"); db.execute("PRAGMA cache_size=-65536")
    db.execute(f"CREATE TABLE events(id INTEGER PRIMARY KEY, key INTEGER, {COLS})")
    if index and index != "ROWID": db.execute(index)
    key_column = "id" if index == "ROWID" else "key"
    sql = f"INSERT INTO events ({key_column}, time, machine_id, integration, source_format, product, category, service, fields, raw, import_id, line) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)" + (" ON CONFLICT DO NOTHING" if index else "")
    batches = [rows(b, keyfn, sort) for b in range(N // BATCH)]
    start = time.perf_counter()
    for batch in batches:
        db.execute("BEGIN"); db.executemany(sql, batch); db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    print(f"{name:50s} {len(batches) * BATCH / elapsed:10.0f} rows/s", flush=True)
    db.close()
