import Testing
import VigilTestSupport
@testable import VigilServer

/// The token bucket with a clock the test controls.
@Suite(.runsOn(.servers)) struct PushRateLimiterTests {
    @Test func burstsOfTwiceTheRateThenOneAPushPerInterval() {
        var limiter = PushRateLimiter(perSecond: 10)
        let start = ContinuousClock.now
        let admitted = (0..<25).filter { _ in limiter.admit(tokenID: 1, now: start) == nil }.count
        #expect(admitted == 20)
        #expect(limiter.admit(tokenID: 1, now: start) == 1)
        // A tenth of a second refills one push.
        #expect(limiter.admit(tokenID: 1, now: start + .milliseconds(100)) == nil)
        #expect(limiter.admit(tokenID: 1, now: start + .milliseconds(100)) != nil)
        // Other tokens are not affected, and zero turns limiting off.
        #expect(limiter.admit(tokenID: 2, now: start) == nil)
        var unlimited = PushRateLimiter(perSecond: 0)
        #expect((0..<1_000).allSatisfy { _ in unlimited.admit(tokenID: 1, now: start) == nil })
    }
}
