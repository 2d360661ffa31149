#!/usr/bin/env python3
"""Checks Vigil's HTTP API against openapi.yaml.

    check-api-contract.py [--document openapi.yaml]
        validates the document against the OpenAPI 3.1 schema;
    check-api-contract.py --server http://127.0.0.1:8080 --clamav-log clamscan.log
        also sends a request to every documented operation, with good and bad input, and checks
        that each answer's status is documented for it and that its body validates against the
        documented schema (RFC 3339 times included), that every error has the one error shape,
        that every JSON key is snake_case and that /metrics is Prometheus text. An operation the
        document lists but the check never reached fails it.

The server must have the clamav and json integrations on. Credentials come from the environment:
VIGIL_API_KEY (read and triage), VIGIL_ADMIN_KEY (admin) and VIGIL_PUSH_TOKEN (a clamav token).
Exits 0 when everything holds, 1 with a list of the failures, 2 when a Python module is missing
(pip install openapi-spec-validator jsonschema rfc3339-validator PyYAML).
"""
import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

try:
    import yaml
    from jsonschema import Draft202012Validator, FormatChecker
    from openapi_spec_validator import validate as validate_openapi
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
    import rfc3339_validator  # noqa: F401  (makes FormatChecker check date-time)
except ImportError as missing:
    print(f"check-api-contract: {missing}; pip install openapi-spec-validator jsonschema rfc3339-validator PyYAML", file=sys.stderr)
    sys.exit(2)

DOCUMENT_URI = "urn:vigil:openapi"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
# Objects whose keys are event field names, not API keys.
FREE_FORM = {"fields", "matched_fields"}
PROMETHEUS_SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? '
                               r'(-?[0-9.]+([eE][+-]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?$')
PROMETHEUS_COMMENT = re.compile(r"^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$")


class Contract:
    def __init__(self, document_path, server):
        with open(document_path, encoding="utf-8") as file:
            self.text = file.read()
        self.document = yaml.safe_load(self.text)
        self.server = server.rstrip("/") if server else None
        self.registry = Registry().with_resource(DOCUMENT_URI, Resource(contents=self.document, specification=DRAFT202012))
        self.failures = []
        self.reached = set()

    def fail(self, message):
        self.failures.append(message)

    def operations(self):
        return {(path, method) for path, item in self.document["paths"].items() for method in item
                if method in ("get", "put", "post", "patch", "delete")}

    def resolve(self, node, pointer):
        """Follows a local $ref; returns the node and the JSON pointer where it lives."""
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"][1:]
            node = self.document
            for part in pointer.strip("/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    @staticmethod
    def escape(part):
        return part.replace("~", "~0").replace("/", "~1")

    def check_document(self):
        try:
            validate_openapi(self.document)
        except Exception as error:  # the validator raises several kinds
            self.fail(f"openapi.yaml is not valid OpenAPI 3.1: {str(error).splitlines()[0]}")

    def request(self, method, template, path=None, credential=None, body=None, content_type="application/json"):
        """Sends one request and checks the answer against the operation `template` documents."""
        self.reached.add((template, method.lower()))
        url = self.server + (path or template)
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(url, data=data, method=method)
        if credential:
            request.add_header("Authorization", f"Bearer {credential}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, error.headers, error.read()
        label = f"{method} {path or template} -> {status}"
        operation = self.document["paths"][template][method.lower()]
        documented = operation["responses"].get(str(status))
        if documented is None:
            self.fail(f"{label}: status {status} is not documented for {method} {template}")
            return status, raw
        response, pointer = self.resolve(documented, f"/paths/{self.escape(template)}/{method.lower()}/responses/{status}")
        media_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        content = response.get("content", {})
        if content and media_type not in content:
            self.fail(f"{label}: Content-Type {media_type!r} is not documented (documented: {', '.join(content)})")
            return status, raw
        if media_type == "application/json":
            try:
                value = json.loads(raw)
            except ValueError:
                self.fail(f"{label}: the body is not JSON: {raw[:200]!r}")
                return status, raw
            schema_pointer = f"{pointer}/content/{self.escape(media_type)}/schema"
            self.validate(label, value, schema_pointer)
            self.check_keys(label, value)
            if status >= 400:
                self.validate(label + " (error shape)", value, "/components/schemas/Error")
            return status, value
        return status, raw

    def stream_opens(self, template, credential):
        """Opens the event stream: 200, text/event-stream, and its first line, without reading on."""
        self.reached.add((template, "get"))
        request = urllib.request.Request(self.server + template)
        request.add_header("Authorization", f"Bearer {credential}")
        with urllib.request.urlopen(request, timeout=10) as response:
            media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
            if response.status != 200 or media_type not in self.document["paths"][template]["get"]["responses"]["200"]["content"]:
                self.fail(f"GET {template} -> {response.status} {media_type!r}, not 200 text/event-stream")
            first = response.readline()
            if not first.startswith(b"retry: "):
                self.fail(f"GET {template}: the stream does not open with a retry line: {first[:80]!r}")

    def validate(self, label, value, pointer):
        schema = {"$ref": DOCUMENT_URI + "#" + urllib.parse.quote(pointer, safe="/~")}
        validator = Draft202012Validator(schema, registry=self.registry, format_checker=FormatChecker())
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(part) for part in error.absolute_path) or "(body)"
            self.fail(f"{label}: {where}: {error.message[:300]}")

    def check_keys(self, label, value, parent=None):
        if isinstance(value, dict):
            for key, child in value.items():
                if parent not in FREE_FORM and not SNAKE_CASE.match(key):
                    self.fail(f"{label}: key {key!r} is not snake_case")
                self.check_keys(label, child, key)
        elif isinstance(value, list):
            for child in value:
                self.check_keys(label, child, parent)

    def check_server(self, clamav_log):
        api_key, admin_key, push_token = (os.environ[name] for name in ("VIGIL_API_KEY", "VIGIL_ADMIN_KEY", "VIGIL_PUSH_TOKEN"))
        with open(clamav_log, "rb") as file:
            log = file.read()

        self.request("GET", "/health")
        status, metrics = self.request("GET", "/metrics")
        for line in metrics.decode().splitlines():
            if line and not (PROMETHEUS_COMMENT.match(line) or PROMETHEUS_SAMPLE.match(line)):
                self.fail(f"/metrics: not Prometheus text exposition: {line!r}")
        status, served = self.request("GET", "/openapi.yaml")
        if served.decode() != self.text:
            self.fail("GET /openapi.yaml does not serve this openapi.yaml")

        ingest = "/api/v1/ingest"
        status, result = self.request("POST", ingest, f"{ingest}?format=clamav&hostname=contract-01", push_token, log, "text/plain")
        if status != 200:
            self.fail(f"the clamav push was refused ({status}): {result}")
        self.request("POST", ingest, credential=None, body="{}")
        self.request("POST", ingest, f"{ingest}?format=bogus", push_token, "{}")
        self.request("POST", ingest, credential=api_key, body="{}")

        alerts = "/api/v1/alerts"
        status, page = self.request("GET", alerts, f"{alerts}?machine=contract-01&sort=severity&limit=5", api_key)
        alert_ids = [alert["id"] for alert in page.get("alerts", [])] if status == 200 else []
        if not alert_ids:
            self.fail("the pushed EICAR log raised no alert to check the alert routes with")
            alert_ids = [1]
        self.request("GET", alerts, f"{alerts}?limit=0", api_key)
        self.request("GET", alerts, f"{alerts}?since=someday", api_key)
        self.request("GET", alerts, credential=None)

        one = "/api/v1/alerts/{id}"
        self.request("GET", one, f"/api/v1/alerts/{alert_ids[0]}", api_key)
        self.request("GET", one, "/api/v1/alerts/999999", api_key)
        self.request("GET", one, "/api/v1/alerts/not-a-number", api_key)
        self.request("PATCH", one, f"/api/v1/alerts/{alert_ids[0]}", api_key,
                     json.dumps({"status": "in_progress", "assigned_to": "contract", "comment": "checking the contract"}))
        self.request("PATCH", one, f"/api/v1/alerts/{alert_ids[0]}", api_key, json.dumps({"assignedTo": "camelCase"}))
        self.request("PATCH", one, "/api/v1/alerts/999999", api_key, json.dumps({"status": "resolved"}))
        self.request("GET", one, f"/api/v1/alerts/{alert_ids[0]}", None)

        for path, bad in (("/api/v1/incidents", "?severity=huge"), ("/api/v1/machines", None), ("/api/v1/integrations", None)):
            self.request("GET", path, credential=api_key)
            if bad:
                self.request("GET", path, path + bad, api_key)
            self.request("GET", path, credential="vglk_" + "x" * 43)

        on, off, tokens = "/api/v1/integrations/{name}/on", "/api/v1/integrations/{name}/off", "/api/v1/integrations/{name}/tokens"
        self.request("POST", on, "/api/v1/integrations/json/on", admin_key)
        self.request("POST", on, "/api/v1/integrations/json/on", api_key)
        self.request("POST", on, "/api/v1/integrations/nosuch/on", admin_key)
        status, issued = self.request("POST", tokens, "/api/v1/integrations/json/tokens", admin_key, json.dumps({"valid_for": "1h"}))
        self.request("POST", tokens, "/api/v1/integrations/json/tokens", admin_key, json.dumps({"valid_for": "1000d"}))
        self.request("POST", tokens, "/api/v1/integrations/json/tokens", api_key)
        self.request("POST", off, "/api/v1/integrations/json/off", admin_key)
        self.request("POST", off, "/api/v1/integrations/json/off", None)
        self.request("POST", tokens, "/api/v1/integrations/json/tokens", admin_key)
        if status == 201:
            refused, _ = self.request("POST", ingest, f"{ingest}?format=json", issued["token"], '{"n":1}')
            if refused != 401:
                self.fail(f"a token of an integration turned off was answered {refused}, not 401")

        subscriptions, named = "/api/v1/subscriptions", "/api/v1/subscriptions/{name}"
        status, created = self.request("POST", subscriptions, credential=admin_key, body=json.dumps(
            {"name": "contract-hook", "webhook": "http://127.0.0.1:9/hook", "min_severity": "high", "on": ["alert.created", "alert.updated"]}))
        if status != 201:
            self.fail(f"the webhook subscription was refused ({status}): {created}")
        self.request("POST", subscriptions, credential=admin_key, body=json.dumps({"name": "contract-bad", "syslog": "no-port"}))
        self.request("POST", subscriptions, credential=api_key, body="{}")
        self.request("GET", subscriptions, credential=admin_key)
        self.request("GET", subscriptions, credential=None)
        self.request("GET", named, f"{subscriptions}/contract-hook", admin_key)
        self.request("GET", named, f"{subscriptions}/nosuch", admin_key)
        self.request("GET", named, f"{subscriptions}/contract-hook", api_key)
        for action in ("disable", "enable", "test", "redeliver"):
            self.request("POST", f"{named}/{action}", f"{subscriptions}/contract-hook/{action}", admin_key)
            self.request("POST", f"{named}/{action}", f"{subscriptions}/nosuch/{action}", admin_key)
        self.request("DELETE", named, f"{subscriptions}/contract-hook", admin_key)
        self.request("DELETE", named, f"{subscriptions}/contract-hook", admin_key)

        query = "/api/v1/query"
        status, answer = self.request("POST", query, credential=api_key, body=json.dumps(
            {"sql": "SELECT hostname, count(*) AS events FROM events GROUP BY hostname", "limit": 10}))
        if status != 200 or not answer.get("rows"):
            self.fail(f"the hunting query found no events ({status}): {answer}")
        self.request("POST", query, credential=api_key, body=json.dumps({"sql": "DELETE FROM alerts"}))
        self.request("POST", query, credential=api_key, body=json.dumps(
            {"sql": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n", "timeout": "1s"}))
        self.request("POST", query, credential=None, body="{}")

        events = "/api/v1/events"
        status, page = self.request("GET", events, f"{events}?machine=contract-01&limit=2", api_key)
        if status == 200 and page.get("next"):
            self.request("GET", events, f"{events}?machine=contract-01&limit=2&cursor={urllib.parse.quote(page['next'])}", api_key)
        self.request("GET", events, f"{events}?since=someday", api_key)
        self.request("GET", events, credential=None)

        timeline = "/api/v1/machines/{id}/timeline"
        status, machines = self.request("GET", "/api/v1/machines", credential=api_key)
        machine_ids = [m["id"] for m in machines.get("machines", []) if m.get("hostname") == "contract-01"] if status == 200 else []
        if not machine_ids:
            self.fail("the pushed machine contract-01 is not listed, so its timeline cannot be checked")
            machine_ids = [1]
        self.request("GET", timeline, f"/api/v1/machines/{machine_ids[0]}/timeline?limit=5", api_key)
        self.request("GET", timeline, "/api/v1/machines/999999/timeline", api_key)
        self.request("GET", timeline, "/api/v1/machines/not-a-number/timeline", api_key)
        self.request("GET", timeline, f"/api/v1/machines/{machine_ids[0]}/timeline", None)

        stream = "/api/v1/alerts/stream"
        self.stream_opens(stream, api_key)
        self.request("GET", stream, f"{stream}?min_severity=huge", api_key)
        self.request("GET", stream, credential=None)

        for path, method in sorted(self.operations() - self.reached):
            self.fail(f"{method.upper()} {path} is documented but this check never reached it")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--document", default=os.path.join(os.path.dirname(__file__), "..", "openapi.yaml"))
    parser.add_argument("--server", help="a running vigil serve, e.g. http://127.0.0.1:8080")
    parser.add_argument("--clamav-log", help="a clamscan log of the EICAR file, pushed to raise an alert")
    arguments = parser.parse_args()
    contract = Contract(arguments.document, arguments.server)
    contract.check_document()
    if arguments.server and not contract.failures:
        contract.check_server(arguments.clamav_log)
    for failure in contract.failures:
        print(failure)
    checked = f"{len(contract.reached)} operations on {arguments.server}" if arguments.server else "the document"
    print(f"{'FAILED' if contract.failures else 'ok'}: {checked}, {len(contract.failures)} failures")
    sys.exit(1 if contract.failures else 0)


if __name__ == "__main__":
    main()
