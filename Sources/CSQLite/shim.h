#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro over a function-pointer cast that Swift cannot import.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

/// Turns off SQLite's memory statistics, which take a process-wide mutex around every
/// allocation and free; Vigil never reads them. sqlite3_config is variadic (Swift cannot call
/// it) and succeeds only before SQLite initializes, so call this before the first open.
static inline int csqlite_disable_memory_statistics(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
