import HTTPTypes
import NIOHTTPTypes
import NIOCore

/// Closes a connection whose client is too slow to be anything but a resource hog: one that has
/// not finished sending a request's headers `headerTimeout` after it connected (or after its
/// previous response), or that sends nothing for `bodyIdleTimeout` in the middle of a body.
/// While the server works on a request it received whole, no timer runs.
///
/// Sits after the HTTP decoder, so it sees request parts; a connection that never completes a
/// request head is caught by the header timer armed when the handler joins the pipeline.
final class SlowClientTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headerTimeout: TimeAmount
    private let bodyIdleTimeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(headerTimeout: Duration, bodyIdleTimeout: Duration) {
        self.headerTimeout = TimeAmount(headerTimeout)
        self.bodyIdleTimeout = TimeAmount(bodyIdleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head, .body: arm(context, bodyIdleTimeout)
        case .end: disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The response is out: the next request's headers are due.
        if case .end = unwrapOutboundIn(data) { arm(context, headerTimeout) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        timer?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) { bound.value.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
