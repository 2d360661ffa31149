import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import VigilModel
import VigilPipeline
import VigilStore

/// Why a delivery try failed, in words for `vigil notify status`.
struct DeliveryFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Posts webhook messages: one signed POST per change, redirects not followed, 2xx is success.
struct WebhookSender: Sendable {
    let client: HTTPClient
    /// How long one POST may take, connection included.
    static let timeout: TimeAmount = .seconds(10)

    func send(_ message: DeliveryMessage, to url: String, secret: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Vigil")
        request.headers.add(name: "X-Vigil-Event-Id", value: String(message.eventID))
        request.headers.add(name: "X-Vigil-Event-Type", value: message.kind)
        request.headers.add(name: WebhookSignature.headerName, value: WebhookSignature.sign(body: message.body, secret: secret, time: .now()))
        request.body = .bytes(ByteBuffer(bytes: message.body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: Self.timeout)
        } catch {
            throw DeliveryFailure("POST \(url) failed: \(error)")
        }
        // The answer's body is read (to reuse the connection) but never kept beyond 4 KiB.
        let body = try? await response.body.collect(upTo: 4096)
        guard (200..<300).contains(response.status.code) else {
            let excerpt = body.map { String(buffer: $0).prefix(200) } ?? ""
            throw DeliveryFailure("POST \(url) answered \(response.status.code) \(response.status.reasonPhrase) \(excerpt)")
        }
    }

    /// A client for webhooks: no redirects (a receiver cannot bounce alerts elsewhere).
    static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// Forwards syslog messages over TCP (optionally TLS), each framed with octet counting
/// (RFC 6587). Plain syslog has no acknowledgement, so a batch is confirmed the one way TCP
/// allows: after writing it, Vigil closes its sending side and waits for the receiver to close
/// its own. A receiver closes only after reading everything before the close; one that dies or
/// resets first fails the batch, which is then sent again whole (at least once).
struct SyslogSender: Sendable {
    /// Connecting, writing and the receiver's close, each at most this long.
    static let timeout: TimeAmount = .seconds(10)

    func send(_ messages: [DeliveryMessage], to address: SyslogAddress, tls: Bool, caFile: String?) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let confirmation = group.any().makePromise(of: Void.self)
        let sslContext = try tls ? Self.tlsContext(caFile: caFile) : nil
        let serverHostname = tls && !Self.isIPAddress(address.host) ? address.host : nil
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(Self.timeout)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(ReceiverCloseHandler(confirmation: confirmation))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            confirmation.fail(error)
            throw DeliveryFailure("cannot connect to \(address.host):\(address.port): \(error)")
        }
        let timeout = channel.eventLoop.scheduleTask(in: Self.timeout) {
            confirmation.fail(DeliveryFailure("\(address.host):\(address.port) did not close the connection within \(Self.timeout.nanoseconds / 1_000_000_000) s of the batch's end"))
        }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        var buffer = channel.allocator.buffer(capacity: messages.reduce(0) { $0 + $1.body.count + 8 })
        for message in messages {
            buffer.writeString("\(message.body.count) ")
            buffer.writeBytes(message.body)
        }
        do {
            try await channel.writeAndFlush(buffer).get()
            try await channel.close(mode: .output).get()
            try await confirmation.futureResult.get()
        } catch {
            // The channel's own error (a refused TLS handshake, a reset) says more than the
            // write's "closed channel"; closing completes the confirmation either way.
            channel.close(promise: nil)
            var cause = error
            do { try await confirmation.futureResult.get() } catch { cause = error }
            throw DeliveryFailure("sending \(messages.count) messages to \(address.host):\(address.port) failed: \(cause)")
        }
    }

    static func tlsContext(caFile: String?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
            } catch {
                throw DeliveryFailure("cannot read the CA file \(caFile): \(error)")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// Completes `confirmation` when the receiver closes its side cleanly (end of stream), and
/// fails it on any error first (a reset, a TLS failure). Runs on the channel's event loop.
final class ReceiverCloseHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let confirmation: EventLoopPromise<Void>

    init(confirmation: EventLoopPromise<Void>) {
        self.confirmation = confirmation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A syslog receiver says nothing; whatever it sends is ignored.
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent { confirmation.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS receiver that ends the TCP stream without its own close_notify has still read
        // everything before our close: the end is what confirms.
        if let tlsError = error as? NIOSSLError, case .uncleanShutdown = tlsError {
            confirmation.succeed()
        } else {
            confirmation.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closed without an error: the receiver closed after reading.
        confirmation.succeed()
        context.fireChannelInactive()
    }
}
