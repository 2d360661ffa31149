import VigilIngest
import VigilStore

extension IntegrationRow {
    /// What the gate needs to know of the integration.
    public var gateState: IngestGate.IntegrationState {
        IngestGate.IntegrationState(name: name, enabled: enabled, formats: formats, platforms: platforms)
    }
}
