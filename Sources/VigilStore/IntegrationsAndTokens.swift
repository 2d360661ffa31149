import VigilModel

/// Integrations, their push tokens and the API keys: what the gate and the administration ask.
/// Only hashes of tokens and keys are stored.
public protocol IntegrationsAndTokens: AnyObject {
    func integrations() throws -> [IntegrationRow]
    func integration(named name: String) throws -> IntegrationRow?
    /// Turns an integration on or off; off revokes its tokens. Audited.
    func setIntegration(_ name: String, enabled: Bool, actor: String) throws
    func addIntegration(_ definition: IntegrationDefinition, actor: String) throws
    /// Counts and audits data an integration's gate refused.
    func recordRefusedIngest(integration: String, actor: String, reason: String) throws

    func createToken(integration name: String, hash: [UInt8], expiresAt: Timestamp, machines: [String], actor: String) throws -> Int64
    func tokens(integration: String) throws -> [TokenRow]
    func revokeToken(integration: String, id: Int64, actor: String) throws
    /// The token whose hash is `hash`, for the gate.
    func storedToken(hash: [UInt8]) throws -> (id: Int64, integration: String, hash: [UInt8], expiresAt: Timestamp, revokedAt: Timestamp?, machines: [String])?

    func createAPIKey(name: String, hash: [UInt8], admin: Bool, expiresAt: Timestamp?, actor: String) throws -> Int64
    func apiKeys() throws -> [APIKeyRow]
    func revokeAPIKey(id: Int64, actor: String) throws
    /// The active (unrevoked, unexpired) key whose hash is `hash`, recording its use.
    func useAPIKey(hash: [UInt8]) throws -> (id: Int64, name: String, hash: [UInt8], admin: Bool)?
}
