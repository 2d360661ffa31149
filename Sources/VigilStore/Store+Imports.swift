import VigilModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Store {
    /// Takes the database's writer lock for this process's lifetime, or fails at once naming
    /// who holds it. Imports that are still `running` when the lock is free belonged to a
    /// process that died; they become `interrupted`.
    ///
    /// One process at a time writes imports and correlation state: `vigil import` or `vigil serve`.
    public func acquireWriterLock(holder: String) throws(StoreError) -> WriterLock {
        let lock = try WriterLock(databasePath: path, holder: holder)
        try markRunningImportsInterrupted()
        return lock
    }

    /// Marks imports left `running` by a process that died as `interrupted`, when no process
    /// holds the writer lock; a no-op otherwise. Every CLI command calls this on open.
    public func markInterruptedImports() throws(StoreError) {
        guard try connection.statement("SELECT 1 FROM imports WHERE status = 'running' LIMIT 1").firstInteger() != nil,
            let lock = try? WriterLock(databasePath: path, holder: "recovery")
        else { return }
        try withExtendedLifetime(lock) { () throws(StoreError) in try markRunningImportsInterrupted() }
    }

    /// Only while holding the writer lock: no other process can be running these imports.
    private func markRunningImportsInterrupted() throws(StoreError) {
        try connection.execute("UPDATE imports SET status = 'interrupted' WHERE status = 'running'")
    }
}
