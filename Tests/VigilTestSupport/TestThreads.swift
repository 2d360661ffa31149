import Foundation
import Testing

/// Threads of their own for a group of suites, off the cooperative pool.
///
/// Every target's tests run in one process, whose cooperative pool has one thread per core.
/// A synchronous test holds its thread until it ends, so two long ones at once (parsing whole
/// corpora, importing, fuzzing) froze every asynchronous test beside them, and requests to the
/// in-process servers timed out. Busy suites run on `.busy` and the in-process server suites on
/// `.servers`, so neither can starve the other or the tests left on the cooperative pool.
public final class TestThreads: TaskExecutor, @unchecked Sendable {
    // Safety: `jobs` is touched only under `condition`'s lock.

    /// For suites that keep a thread busy: corpora, imports, fuzzing.
    public static let busy = TestThreads(name: "vigil-busy", count: ProcessInfo.processInfo.activeProcessorCount, suitesAtOnce: nil)
    /// For suites that run a server in the test process and time its answers; three suites at
    /// a time, so that a dozen servers do not share two threads and answer each other's tests late.
    public static let servers = TestThreads(name: "vigil-server", count: ProcessInfo.processInfo.activeProcessorCount, suitesAtOnce: 3)

    /// The prefix of the names of this executor's threads.
    public let name: String
    /// How many suites may run on these threads at once; nil for no limit.
    let slots: TestSlots?
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(name: String, count: Int, suitesAtOnce: Int?) {
        self.name = name
        slots = suitesAtOnce.map(TestSlots.init)
        for index in 0..<max(1, count) {
            Thread.detachNewThread { [self] in
                Thread.current.name = "\(name)-\(index)"
                work()
            }
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// The name of the thread the caller runs on (empty for the cooperative pool's).
    public static var currentThreadName: String { Thread.current.name ?? "" }
}

/// Runs a suite's tests on the given `TestThreads`.
///
/// The suite's scope holds one of the threads' slots. Each test case runs in a task of its own
/// that starts on the threads (`provideScope`). Put it on top-level suites only: a nested
/// suite would take a second slot inside the first.
public struct RunsOn: SuiteTrait, TestTrait, TestScoping {
    let threads: TestThreads

    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        test.isSuite == (testCase == nil) ? self : nil
    }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        guard test.isSuite else {
            // A task of its own that starts on the threads (it inherits the test's task-locals,
            // through which Swift Testing records issues). A preference set on the running task,
            // followed by a yield, did not always move it: clean-clone CI runs found
            // `serverTestsRunOnThreadsOfTheirOwn` on a Dispatch thread.
            // Safety: the task is awaited before `function` goes out of scope.
            try await withoutActuallyEscaping(function) { function in
                let body = Task(executorPreference: threads) { try await function() }
                try await withTaskCancellationHandler { try await body.value } onCancel: { body.cancel() }
            }
            return
        }
        await threads.slots?.acquire()
        do {
            try await function()
        } catch {
            await threads.slots?.release()
            throw error
        }
        await threads.slots?.release()
    }
}

/// A counting semaphore for tasks: at most `count` hold a slot at once, the others wait in order.
actor TestSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

extension Trait where Self == RunsOn {
    /// Runs the suite's tests on `threads` (`.busy` or `.servers`), off the cooperative pool.
    public static func runsOn(_ threads: TestThreads) -> Self { Self(threads: threads) }
}
