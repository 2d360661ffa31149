import VigilModel
import Glibc

/// An advisory `flock` on `<database>-writer.lock`, released when this object goes away or
/// the process dies (even by `kill -9`).
public final class WriterLock {
    private let descriptor: Int32

    init(databasePath: String, holder: String) throws(StoreError) {
        let lockPath = databasePath + "-writer.lock"
        descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.io, "cannot open the writer lock \(lockPath): \(String(cString: strerror(errno))). Check the directory's permissions.")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            let owner = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            close(descriptor)
            throw StoreError(.busy, """
                another Vigil process is writing to \(databasePath)\(owner.isEmpty ? "" : " (\(owner))"). \
                Wait for it to finish; while `vigil serve` runs, push data to it over HTTP instead.
                """)
        }
        let text = Array("\(holder), pid \(getpid()), since \(Timestamp.now().iso8601)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, text, text.count, 0)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
