import Foundation
import HTTPTypes
import Hummingbird
import Logging
import VigilModel
import VigilPipeline
import VigilStore

/// The web console ("Vigil Security Center"), served at `/`: server-rendered pages over the
/// same store reads the API uses (`AlertFilter`, `AlertDetail`, the row types), and the same
/// audited writes through `IngestService`. Sign-in takes an API key and opens a cookie
/// session (`ConsoleSessions`); every form carries a CSRF token (`ConsoleAuthenticator`).
struct ConsoleController: Sendable {
    let service: IngestService
    /// Where the pages read: a SQLite read connection per request, or a pooled connection.
    let readers: QueryReaders
    let sessions: ConsoleSessions
    let renderer: ConsoleRenderer
    /// Whether cookies are marked Secure regardless of the request (`vigil serve --secure-cookies`, behind a TLS proxy).
    let secureCookies: Bool
    /// A machine with no data for this long is inactive.
    let activityWindow: Duration

    /// Alerts per page of the queue.
    static let pageSize = 50
    /// Machines per page of the machine list, by host name.
    static let machinesPerPage = 100
    /// The queue counts each severity up to this many, so its counts never scan the whole store.
    static let countCap = 10_000
    /// Token validities the onboarding form offers, as `valid_for` durations.
    static let validities = ["1h", "24h", "7d", "30d", "90d"]

    func register(on router: Router<VigilRequestContext>) {
        router.get("/assets/:name", use: asset)
        let open = router.group().add(middleware: ConsoleErrorPages(renderer: renderer))
        open.get("/login", use: loginPage)
        open.post("/login", use: login)
        let pages = router.group().add(middleware: ConsoleErrorPages(renderer: renderer))
            .add(middleware: ConsoleAuthenticator(sessions: sessions, service: service, admin: false))
        pages.post("/logout", use: logout)
        pages.get("/", use: dashboard)
        pages.get("/alerts", use: alertQueue)
        pages.post("/alerts/triage", use: bulkTriage)
        pages.get("/alerts/:id", use: alertPage)
        pages.post("/alerts/:id", use: triageAlert)
        pages.get("/incidents", use: incidentList)
        pages.get("/incidents/:id", use: incidentPage)
        pages.post("/incidents/:id", use: triageIncident)
        pages.get("/machines", use: machineList)
        pages.get("/machines/:id", use: machinePage)
        pages.get("/detection-test", use: detectionTestPage)
        pages.get("/detection-test/status", use: detectionTestStatus)
        let admin = router.group("/settings").add(middleware: ConsoleErrorPages(renderer: renderer))
            .add(middleware: ConsoleAuthenticator(sessions: sessions, service: service, admin: true))
        admin.get("onboarding", use: onboarding)
        admin.post("integrations/:name/on") { request, context in try await setIntegration(enabled: true, request, context) }
        admin.post("integrations/:name/off") { request, context in try await setIntegration(enabled: false, request, context) }
        admin.post("integrations/:name/tokens", use: issueToken)
        admin.post("integrations/:name/tokens/:id/revoke", use: revokeToken)
    }

    // MARK: Assets and sign-in

    @Sendable func asset(_ request: Request, context: VigilRequestContext) async throws -> Response {
        guard let asset = renderer.assets[try context.parameters.require("name")] else { throw apiError(.notFound, "there is no such console asset") }
        var headers = ConsoleRenderer.securityHeaders
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: asset.text)))
    }

    struct LoginModel {
        let layout: ConsoleLayout
        let next: String
        let message: String?
    }

    @Sendable func loginPage(_ request: Request, context: VigilRequestContext) async throws -> Response {
        renderer.page("login", LoginModel(layout: ConsoleLayout(title: "Sign in", context: context),
                                          next: Self.localPath(request.uri.queryParameters.get("next")), message: nil))
    }

    @Sendable func login(_ request: Request, context: VigilRequestContext) async throws -> Response {
        // Login CSRF: another site's form must not sign the browser in to a session of its choosing.
        if let origin = request.headers[.origin], URL(string: origin)?.hostWithPort != request.head.authority {
            throw ConsoleError(.forbidden, "Sign-in is accepted only from this server's own sign-in page.")
        }
        var request = request
        let body = try await request.collectBody(upTo: ConsoleForm.byteLimit)
        guard let form = ConsoleForm(String(buffer: body)) else { throw ConsoleError(.badRequest, "The sign-in form could not be read; reload the page.") }
        let next = Self.localPath(form["next"])
        let key = form["key"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard let granted = try await service.authorizeAPIKey(key) else {
            context.logger.notice("console sign-in refused: unknown, revoked or expired API key")
            let message = key.isEmpty ? "Enter an API key." : "That API key is unknown, revoked or expired. Create one with `vigil apikey create NAME` (add --admin for onboarding)."
            return renderer.page("login", LoginModel(layout: ConsoleLayout(title: "Sign in", context: context), next: next, message: message), status: .unauthorized)
        }
        let session = try await sessions.open(key: key, name: granted.name, admin: granted.admin)
        return ConsoleRenderer.redirect(to: next, headers: [.setCookie: ConsoleSessions.cookie(for: session, secure: secure(request))])
    }

    @Sendable func logout(_ request: Request, context: VigilRequestContext) async throws -> Response {
        if let session = context.consoleSession { try await sessions.close(id: session.id) }
        return ConsoleRenderer.redirect(to: "/login", headers: [.setCookie: ConsoleSessions.expiredCookie(secure: secure(request))])
    }

    /// Whether this request reached the console over TLS (directly configured, or as a TLS proxy says).
    private func secure(_ request: Request) -> Bool {
        secureCookies || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// `text` when it is a path on this server made of plain characters, else `/`: sign-in
    /// never redirects off the site (`//evil.example`, `https://…`, `/\evil`).
    static func localPath(_ text: String?) -> String {
        guard let text = text?.removingPercentEncoding ?? text, text.hasPrefix("/"), !text.hasPrefix("//"),
              text.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || "/-_".unicodeScalars.contains($0) })
        else { return "/" }
        return text
    }

    // MARK: Dashboard

    struct DashboardModel {
        struct SeverityCount { let severity: String; let count: Int }
        struct ImportItem { let id: Int64; let source: String; let integration: String; let started: String; let events: Int64; let rejected: Int64; let rate: String; let status: String }
        struct Refusal { let integration: String; let refused: Int64 }
        let layout: ConsoleLayout
        let severities: [SeverityCount]
        let trendChart: String
        let osChart: String
        let integrationChart: String
        let imports: [ImportItem]
        let refusals: [Refusal]
    }

    @Sendable func dashboard(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let now = Timestamp.now()
        let (totals, trend, imports, integrations) = try await read { store in
            (try store.alertTotals(), try store.alertTrend(days: 14, now: now), try store.imports(limit: 10), try store.integrations())
        }
        let model = DashboardModel(
            layout: ConsoleLayout(title: "Dashboard", context: context),
            severities: Severity.allCases.reversed().map { .init(severity: $0.name, count: totals.bySeverity[$0] ?? 0) },
            trendChart: SVGChart.alertsPerDay(trend, days: 14, now: now),
            osChart: SVGChart.bars(totals.byPlatform.map { ($0.platform, $0.count) }, caption: "Alerts by OS"),
            integrationChart: SVGChart.bars(totals.byIntegration.map { ($0.integration, $0.count) }, caption: "Alerts by integration"),
            imports: imports.map { row in
                let seconds = row.finishedAt.map { Double($0.microseconds - row.startedAt.microseconds) / 1e6 } ?? 0
                return .init(id: row.id, source: row.source, integration: row.integration, started: row.startedAt.iso8601, events: row.eventsStored,
                             rejected: row.rejected, rate: seconds > 0 ? String(Int(Double(row.eventsStored) / seconds)) : "–", status: row.status)
            },
            refusals: integrations.filter { $0.eventsRefused > 0 }.map { .init(integration: $0.name, refused: $0.eventsRefused) })
        return renderer.page("dashboard", model)
    }

    // MARK: Alert queue

    struct QueueModel {
        struct SeverityCount { let severity: String; let count: String; let link: String }
        let layout: ConsoleLayout
        let alerts: [AlertItem]
        /// Per severity for the other filters, counted up to `countCap` each (`10,000+`).
        let counts: [SeverityCount]
        let total: String
        let severity: [Choice]
        let status: [Choice]
        let os: [Choice]
        let sort: [Choice]
        let order: [Choice]
        let machine: String
        let rule: String
        let technique: String
        let since: String
        let until: String
        let search: String
        let page: Int
        let previous: String?
        let next: String?
        let back: String
        let triageStatuses: [Choice]
        let classifications: [Choice]
    }

    /// The queue's filters as query parameters: the alert listing's own parameter names
    /// (`AlertFilter(parameters:)`), blank fields left out.
    static func queueParameters(_ request: Request) -> [String: String] {
        var parameters: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where !value.isEmpty {
            let name = String(name)
            if AlertFilter.parameterNames.contains(name) { parameters[name] = String(value) }
        }
        return parameters
    }

    static func query(_ parameters: [String: String]) -> String {
        var components = URLComponents()
        components.queryItems = parameters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        // URLComponents leaves `+` as it is, which a form decoder reads as a space.
        return components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
    }

    @Sendable func alertQueue(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let parameters = Self.queueParameters(request)
        var filter: AlertFilter
        do { filter = try AlertFilter(parameters: parameters) } catch { throw ConsoleError(.badRequest, error.description) }
        let page = max(1, min(Int(request.uri.queryParameters.get("page") ?? "") ?? 1, 100_000))
        filter.limit = Self.pageSize
        filter.offset = (page - 1) * Self.pageSize
        let query = filter
        var allSeverities = filter
        allSeverities.minimumSeverity = nil
        allSeverities.severities = nil
        let countFilter = allSeverities
        let (rows, perSeverity) = try await read { (try $0.alerts(query), try $0.alertCountsBySeverity(countFilter, cap: Self.countCap)) }
        let shown = { (count: Int) in count >= Self.countCap ? "\(Self.countCap.formatted())+" : String(count) }
        func link(_ change: [String: String?], page: Int? = nil) -> String {
            var merged = parameters
            for (name, value) in change { merged[name] = value }
            if let page, page > 1 { merged["page"] = String(page) }
            return "/alerts" + Self.query(merged)
        }
        let model = QueueModel(
            layout: ConsoleLayout(title: "Alerts", context: context),
            alerts: rows.map(AlertItem.init),
            counts: Severity.allCases.reversed().map { severity in
                .init(severity: severity.name, count: shown(perSeverity[severity] ?? 0), link: link(["severity_in": severity.name, "severity": nil]))
            },
            total: perSeverity.values.contains { $0 >= Self.countCap } ? "\(perSeverity.values.reduce(0, +).formatted())+" : String(perSeverity.values.reduce(0, +)),
            severity: Choice.list(Severity.allCases.map(\.name), selected: parameters["severity"], blank: "any"),
            status: Choice.list(AlertUpdate.statuses, selected: parameters["status"], blank: "any"),
            os: Choice.list(OSPlatform.allCases.map(\.rawValue), selected: parameters["os"], blank: "any"),
            sort: Choice.list(AlertFilter.Sort.allCases.map(\.rawValue), selected: parameters["sort"] ?? AlertFilter.Sort.lastEvent.rawValue),
            order: Choice.list(["desc", "asc"], selected: parameters["order"] ?? "desc"),
            machine: parameters["machine"] ?? "", rule: parameters["rule"] ?? "", technique: parameters["technique"] ?? "",
            since: parameters["since"] ?? "", until: parameters["until"] ?? "", search: parameters["search"] ?? "",
            page: page, previous: page > 1 ? link([:], page: page - 1) : nil,
            next: rows.count == Self.pageSize ? link([:], page: page + 1) : nil,
            back: link([:], page: page),
            triageStatuses: Choice.list(AlertUpdate.statuses, selected: nil, blank: "(keep status)"),
            classifications: Choice.list(AlertUpdate.classifications, selected: nil, blank: "(keep classification)"))
        return renderer.page("alerts", model)
    }

    /// The triage fields of a submitted form as an update; blank fields change nothing.
    static func update(from form: ConsoleForm) throws -> AlertUpdate {
        func word(_ name: String, _ vocabulary: [String]) throws -> String? {
            guard let text = form.nonEmpty(name) else { return nil }
            guard let canonical = AlertUpdate.canonical(text, in: vocabulary) else {
                throw ConsoleError(.badRequest, "\(name) '\(text)' is unknown; use one of \(vocabulary.joined(separator: ", ")).")
            }
            return canonical
        }
        return AlertUpdate(status: try word("status", AlertUpdate.statuses), classification: try word("classification", AlertUpdate.classifications),
                           determination: form.nonEmpty("determination"), assignedTo: form.nonEmpty("assigned_to"), comment: form.nonEmpty("comment"))
    }

    @Sendable func bulkTriage(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let form = context.submittedForm
        let ids = form.all("id").compactMap { Int64($0) }
        guard !ids.isEmpty, ids.count <= AlertFilter.pageCap else { throw ConsoleError(.badRequest, "Select between 1 and \(AlertFilter.pageCap) alerts to triage.") }
        let update = try Self.update(from: form)
        guard !update.isEmpty else { throw ConsoleError(.badRequest, "Choose a status, classification, assignee or comment to apply.") }
        try await store { try await service.updateAlerts(ids: ids, update, actor: context.keyActor) }
        let back = form["back"] ?? "/alerts"
        return ConsoleRenderer.redirect(to: back.hasPrefix("/alerts") && !back.hasPrefix("//") ? back : "/alerts")
    }

    // MARK: Alert page

    struct AlertModel {
        struct Change { let time: String; let actor: String; let action: String; let details: String }
        struct Comment { let author: String; let text: String; let time: String }
        struct Matched { let name: String; let value: String }
        let layout: ConsoleLayout
        let alert: AlertItem
        let description: String
        let classification: String?
        let determination: String?
        let author: String
        let firstEvent: String
        let techniques: [TechniqueLink]
        let matched: [Matched]
        var hasMatched: Bool { !matched.isEmpty }
        let events: [EventItem]
        let comments: [Comment]
        let history: [Change]
        let incident: IncidentRow?
        let statuses: [Choice]
        let classifications: [Choice]
    }

    @Sendable func alertPage(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.id(context)
        guard let detail = try await read({ try AlertDetail(id: id, from: $0) }) else { throw ConsoleError(.notFound, "There is no alert \(id).") }
        let alert = detail.alert
        var matched: [AlertModel.Matched] = []
        if case .object(let members) = JSONValue(parsing: alert.matchedFields) {
            matched = members.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value.plainText) }
        }
        let matchedNames = Set(matched.map(\.name))
        let model = AlertModel(
            layout: ConsoleLayout(title: "Alert \(id)", context: context), alert: AlertItem(alert), description: alert.description,
            classification: alert.classification, determination: alert.determination, author: alert.author,
            firstEvent: alert.firstEventTime.iso8601, techniques: alert.techniques.map(TechniqueLink.init), matched: matched,
            events: detail.events.map { EventItem($0, matched: matchedNames) },
            comments: detail.comments.map { .init(author: $0.author, text: $0.text, time: $0.createdAt.iso8601) },
            history: detail.history.map { .init(time: $0.time.iso8601, actor: $0.actor, action: $0.action, details: $0.details) },
            incident: detail.incident,
            statuses: Choice.list(AlertUpdate.statuses, selected: alert.status),
            classifications: Choice.list(AlertUpdate.classifications, selected: alert.classification, blank: "(none)"))
        return renderer.page("alert", model)
    }

    @Sendable func triageAlert(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let form = context.submittedForm
        var update = try Self.update(from: form)
        // The alert page's assignee field shows the current one, so clearing it unassigns
        // (bulk triage's empty field means "no change").
        if form["assigned_to"]?.trimmingCharacters(in: .whitespaces).isEmpty == true,
           let current = try await read({ try $0.alert(id: id)?.assignedTo }), !current.isEmpty {
            update.assignedTo = ""
        }
        if !update.isEmpty { try await store { try await service.updateAlerts(ids: [id], update, actor: context.keyActor) } }
        return ConsoleRenderer.redirect(to: "/alerts/\(id)")
    }

    // MARK: Incidents

    struct IncidentListModel {
        struct Item { let id: Int64; let title: String; let severity: String; let status: String; let alerts: Int64; let machines: String; let lastEvent: String; let reason: String }
        let layout: ConsoleLayout
        let incidents: [Item]
        let status: [Choice]
    }

    @Sendable func incidentList(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let statusText = request.uri.queryParameters.get("status").flatMap { $0.isEmpty ? nil : $0 }
        let status = try statusText.map { text in
            guard let canonical = AlertUpdate.canonical(text, in: AlertUpdate.statuses) else {
                throw ConsoleError(.badRequest, "status '\(text)' is unknown; use one of \(AlertUpdate.statuses.joined(separator: ", ")).")
            }
            return canonical
        }
        let rows = try await read { try $0.incidents(status: status, minimumSeverity: nil, limit: AlertFilter.pageCap) }
        let model = IncidentListModel(
            layout: ConsoleLayout(title: "Incidents", context: context),
            incidents: rows.map { .init(id: $0.id, title: $0.title, severity: $0.severity.name, status: $0.status, alerts: $0.alertCount,
                                        machines: $0.machines.joined(separator: ", "), lastEvent: $0.lastEventTime.iso8601, reason: $0.reason) },
            status: Choice.list(AlertUpdate.statuses, selected: status, blank: "any"))
        return renderer.page("incidents", model)
    }

    struct IncidentModel {
        let layout: ConsoleLayout
        let incident: IncidentRow
        let severity: String
        let firstEvent: String
        let lastEvent: String
        let alerts: [AlertItem]
        let openAlerts: Int
        let statuses: [Choice]
    }

    @Sendable func incidentPage(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let (found, alerts) = try await read { store -> (IncidentRow?, [AlertRow]) in
            var filter = AlertFilter(limit: AlertFilter.pageCap)
            filter.incident = id
            return (try store.incident(id: id), try store.alerts(filter))
        }
        guard let incident = found else { throw ConsoleError(.notFound, "There is no incident \(id).") }
        let model = IncidentModel(layout: ConsoleLayout(title: "Incident \(id)", context: context), incident: incident, severity: incident.severity.name,
                                  firstEvent: incident.firstEventTime.iso8601, lastEvent: incident.lastEventTime.iso8601,
                                  alerts: alerts.map(AlertItem.init), openAlerts: alerts.filter { $0.status != "resolved" }.count,
                                  statuses: Choice.list(AlertUpdate.statuses, selected: incident.status))
        return renderer.page("incident", model)
    }

    @Sendable func triageIncident(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let form = context.submittedForm
        let update = try Self.update(from: form)
        try await store {
            try await service.updateIncident(id: id, status: update.status, assignedTo: update.assignedTo, classification: update.classification,
                                             comment: update.comment, actor: context.keyActor)
        }
        if update.status == "resolved", form["resolve_alerts"] == "yes" {
            let open = try await read { store in
                var filter = AlertFilter(limit: AlertFilter.pageCap)
                filter.incident = id
                return try store.alerts(filter).filter { $0.status != "resolved" }.map(\.id)
            }
            if !open.isEmpty {
                try await store { try await service.updateAlerts(ids: open, AlertUpdate(status: "resolved"), actor: context.keyActor) }
            }
        }
        return ConsoleRenderer.redirect(to: "/incidents/\(id)")
    }

    // MARK: Machines

    struct MachineItem {
        let id: Int64
        let hostname: String
        let os: String
        let supported: String
        let health: String
        let lastSeen: String
        let integrations: String
        let alerts: Int64
        let events: Int64

        init(_ machine: MachineRow, activeSince: Timestamp) {
            id = machine.id
            hostname = machine.hostname
            os = [machine.osPlatform, machine.osVersion ?? ""].joined(separator: " ").trimmingCharacters(in: .whitespaces)
            supported = machine.supported.map { $0 ? "yes" : "no" } ?? "unknown"
            health = machine.health(activeSince: activeSince)
            lastSeen = machine.lastSeen.iso8601
            integrations = machine.lastIntegration ?? ""
            alerts = machine.alertCount
            events = machine.eventCount
        }
    }

    struct MachineListModel {
        let layout: ConsoleLayout
        let machines: [MachineItem]
        let windowDays: Int64
        /// The first page's link, when this is not the first page.
        let first: String?
        let next: String?
    }

    private var activeSince: Timestamp {
        Timestamp(microseconds: Timestamp.now().microseconds - activityWindow.components.seconds * 1_000_000)
    }

    @Sendable func machineList(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let since = activeSince
        let after = request.uri.queryParameters.get("after").flatMap { $0.isEmpty ? nil : $0 }
        let limit = Self.machinesPerPage
        var rows = try await read { try $0.machines(after: after, limit: limit + 1) }
        let more = rows.count > limit
        rows = Array(rows.prefix(limit))
        let next = more ? rows.last.map { "/machines" + Self.query(["after": $0.hostname]) } : nil
        return renderer.page("machines", MachineListModel(layout: ConsoleLayout(title: "Machines", context: context),
                                                          machines: rows.map { MachineItem($0, activeSince: since) },
                                                          windowDays: activityWindow.components.seconds / 86_400,
                                                          first: after == nil ? nil : "/machines", next: next))
    }

    struct MachineModel {
        let layout: ConsoleLayout
        let machine: MachineItem
        let events: [EventItem]
        let category: String
        let since: String
        let until: String
        let alerts: [AlertItem]
    }

    @Sendable func machinePage(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let parameters = request.uri.queryParameters
        let text = { (name: String) in parameters.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        var filter = EventFilter(category: text("category"), limit: 200)
        for (name, keyPath) in [("since", \EventFilter.since), ("until", \EventFilter.until)] {
            guard let value = text(name) else { continue }
            guard let time = Timestamp(absoluteOrRelative: value) else {
                throw ConsoleError(.badRequest, "\(name) '\(value)' is neither ISO 8601 (2026-11-27T10:00:00Z) nor relative (30m, 24h, 7d).")
            }
            filter[keyPath: keyPath] = time
        }
        let events = filter
        let (machine, timeline, alerts) = try await read { store in
            var alerts = AlertFilter(limit: 20)
            alerts.machine = String(id)
            return (try store.machine(id: id), try store.timeline(machineID: id, events), try store.alerts(alerts))
        }
        guard let machine, let timeline else { throw ConsoleError(.notFound, "There is no machine \(id).") }
        let model = MachineModel(layout: ConsoleLayout(title: machine.hostname, context: context), machine: MachineItem(machine, activeSince: activeSince),
                                 events: timeline.map { EventItem($0.event, alerts: $0.alerts) }, category: text("category") ?? "",
                                 since: text("since") ?? "", until: text("until") ?? "", alerts: alerts.map(AlertItem.init))
        return renderer.page("machine", model)
    }

    // MARK: Detection test

    struct DetectionTestModel {
        let layout: ConsoleLayout
        let eicar: String
        /// The host name the page waits for; nil for any machine.
        let machine: String?
        let since: Int64
    }

    @Sendable func detectionTestPage(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let machine = request.uri.queryParameters.get("machine").flatMap { $0.isEmpty ? nil : String($0) }
        return renderer.page("detection-test", DetectionTestModel(layout: ConsoleLayout(title: "Detection test", context: context),
                                                                  eicar: EICAR.testString, machine: machine, since: Timestamp.now().microseconds))
    }

    /// `{"received":false}`, or `{"received":true,"alert":ID,"hostname":…}` once an EICAR
    /// alert has evidence that arrived at or after `since` (microseconds), from `machine` or any.
    @Sendable func detectionTestStatus(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let micros = parameters.get("since").flatMap({ Int64($0) }) else {
            throw apiError(.badRequest, "since must be a time in microseconds since 1970, as the detection-test page sends it")
        }
        let machine = parameters.get("machine").flatMap { $0.isEmpty ? nil : $0 }
        let alert = try await read { try $0.detectionTestAlert(since: Timestamp(microseconds: micros), machine: machine) }
        var response = Response.json(alert.map { #"{"received":true,"alert":\#($0.id),"hostname":\#(JSONText.quoted($0.hostname))}"# } ?? #"{"received":false}"#)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    // MARK: Settings > Onboarding

    struct OnboardingModel {
        struct Token { let id: Int64; let created: String; let expires: String; let lastUsed: String; let state: String; let machines: String; let active: Bool }
        struct Integration {
            let name: String
            let displayName: String
            let platforms: [String]
            let formats: String
            let enabled: Bool
            let since: String
            let lastData: String
            let received: Int64
            let refused: Int64
            let tokens: [Token]
        }
        struct Issued { let integration: String; let token: String; let expires: String; let validFor: String }
        struct Supported { let platform: String; let distribution: String; let version: String; let note: String }
        let layout: ConsoleLayout
        let integrations: [Integration]
        let validities: [Choice]
        let issued: Issued?
        let compatibility: [Supported]
        let notice: String?
    }

    @Sendable func onboarding(_ request: Request, context: VigilRequestContext) async throws -> Response {
        try await onboardingPage(context, issued: nil, notice: request.uri.queryParameters.get("notice").flatMap(Self.notices.index(forKey:)).map { Self.notices[$0].value })
    }

    /// Messages a redirect back to onboarding may name (`?notice=off`): fixed text, never echoed input.
    static let notices = [
        "on": "The integration is on. Generate an access token for its sensors: tokens issued before it was turned off stay revoked.",
        "off": "The integration is off: inbound data is refused and its tokens are revoked. Stored data stays. Turning it back on needs a new token.",
        "revoked": "The token is revoked; pushes with it are refused from now on.",
    ]

    private func onboardingPage(_ context: VigilRequestContext, issued: OnboardingModel.Issued?, notice: String?) async throws -> Response {
        let (integrations, compatibility) = try await read { store in
            (try store.integrations().map { ($0, try store.tokens(integration: $0.name)) }, try store.compatibility())
        }
        let model = OnboardingModel(
            layout: ConsoleLayout(title: "Onboarding", context: context),
            integrations: integrations.map { integration, tokens in
                .init(name: integration.name, displayName: integration.displayName, platforms: integration.platforms,
                      formats: integration.formats.joined(separator: ", "), enabled: integration.enabled,
                      since: integration.enabledChangedAt?.iso8601 ?? "", lastData: integration.lastDataAt?.iso8601 ?? "never",
                      received: integration.eventsReceived, refused: integration.eventsRefused,
                      tokens: tokens.map { .init(id: $0.id, created: $0.createdAt.iso8601, expires: $0.expiresAt.iso8601,
                                                 lastUsed: $0.lastUsedAt?.iso8601 ?? "never", state: $0.state,
                                                 machines: $0.machines.isEmpty ? "any" : $0.machines.joined(separator: ", "), active: $0.state == "active") })
            },
            validities: Choice.list(Self.validities, selected: "7d"), issued: issued,
            compatibility: compatibility.map { .init(platform: $0.platform, distribution: $0.distribution, version: $0.version, note: $0.note) },
            notice: notice)
        return renderer.page("onboarding", model, status: issued == nil ? .ok : .created)
    }

    func setIntegration(enabled: Bool, _ request: Request, _ context: VigilRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        try await store { try await service.setIntegration(name, enabled: enabled, actor: context.keyActor) }
        return ConsoleRenderer.redirect(to: "/settings/onboarding?notice=" + (enabled ? "on" : "off"))
    }

    @Sendable func issueToken(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let form = context.submittedForm
        let validFor = form["valid_for"] ?? "7d"
        guard Self.validities.contains(validFor), let seconds = DurationText.seconds(validFor) else {
            throw ConsoleError(.badRequest, "Choose a validity of \(Self.validities.joined(separator: ", ")).")
        }
        let machines = (form["machines"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let issued = try await store { try await service.issueToken(integration: name, validFor: seconds, machines: machines, actor: context.keyActor) }
        return try await onboardingPage(context, issued: .init(integration: name, token: issued.token, expires: issued.expires.iso8601, validFor: validFor),
                                        notice: nil)
    }

    @Sendable func revokeToken(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let id = try Self.id(context)
        try await store { try await service.revokeToken(integration: name, id: id, actor: context.keyActor) }
        return ConsoleRenderer.redirect(to: "/settings/onboarding?notice=revoked")
    }

    // MARK: Helpers

    static func id(_ context: VigilRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else { throw ConsoleError(.notFound, "There is no such page.") }
        return id
    }

    /// Runs a change through the service, showing the store's refusal (an unknown name, a bad value) as the page's error.
    @discardableResult
    private func store<T>(_ change: () async throws -> T) async throws -> T {
        do {
            return try await change()
        } catch let error as StoreError {
            throw ConsoleError(error.code == .notFound ? .notFound : .badRequest, error.message)
        }
    }

    private func read<T: Sendable>(_ query: @escaping @Sendable (QueryStore) throws -> T) async throws -> T {
        try await readers.read(query)
    }
}

extension URL {
    /// `host` or `host:port`, as a `Host` header names this URL's server.
    fileprivate var hostWithPort: String? {
        guard let host else { return nil }
        return port.map { "\(host):\($0)" } ?? host
    }
}
