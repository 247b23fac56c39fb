package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/wse-go/wse"
)

// apiField is one field of a request body or query.
type apiField struct {
	name     string
	typ      string // JSON Schema type, or "object", "array:string", "base64", "any"
	required bool
	doc      string
}

// apiOperation is one endpoint of the control API, as the OpenAPI
// document describes it. A test checks this table against the routes.
type apiOperation struct {
	method, path, summary string
	body                  []apiField // request body fields (POST)
	query                 []apiField // query parameters (GET)
	response              string     // what a 200 carries
}

// apiOperations lists every endpoint of the control API (docs/api.md).
var apiOperations = []apiOperation{
	{method: "GET", path: "/health", summary: "Health snapshot", response: "the engine's health fields (connections, queue depth, cluster, recovery, presence)"},
	{method: "GET", path: "/metrics", summary: "Prometheus metrics (text exposition format)", response: "Prometheus text"},
	{method: "GET", path: "/api/connections", summary: "Open connections of this node", response: "{count, connections}"},
	{method: "GET", path: "/api/topics", summary: "Topics with local subscribers", response: "{count, topics}"},
	{method: "GET", path: "/api/topics/{topic}", summary: "Local subscriber count of a topic", response: "{topic, subscribers}"},
	{method: "GET", path: "/api/presence/{topic}", summary: "Users present in a topic, cluster-wide", response: "{topic, members}"},
	{method: "GET", path: "/api/presence/{topic}/stats", summary: "Presence counts of a topic, cluster-wide", response: "{topic, num_users, num_connections}"},
	{method: "POST", path: "/api/presence/update", summary: "Replace a connection's presence data in all its topics", response: "{ok}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"data", "object", true, "presence data"}}},
	{method: "GET", path: "/api/recovery/{topic}", summary: "Recovery position of a topic", response: "{topic, epoch, offset, buffered}"},
	{method: "GET", path: "/api/cluster", summary: "Cluster membership of this node", response: "{enabled, connected, addr, peer_count, peers}"},
	{method: "POST", path: "/api/cluster/dead_letters", summary: "Take (return and clear) the messages that could not reach a peer", response: "{count, entries}"},
	{method: "GET", path: "/api/events", summary: "Long-poll connection events", response: "{events}", query: []apiField{
		{"max", "integer", false, "most events returned (1-10000, default 256)"},
		{"timeout_ms", "integer", false, "wait for the first event (0-60000, default 0)"}}},
	{method: "GET", path: "/api/admin/snapshot", summary: "Everything the admin dashboard shows", response: "{server, metrics, history, connections, topic_count, topics, presence, peers}"},
	{method: "GET", path: "/api/openapi.json", summary: "This document", response: "OpenAPI 3.1"},
	{method: "POST", path: "/api/publish", summary: "Publish to a topic, across the cluster", response: "{delivered} (local connections)", body: []apiField{
		{"topic", "string", true, "topic"}, {"data", "any", true, "JSON object, array or string"},
		{"local", "boolean", false, "this node only"}}},
	{method: "POST", path: "/api/batch", summary: "Many publishes in one request", response: "{delivered, failed, results}", body: []apiField{
		{"publishes", "array:object", true, "up to 10000 {topic, data, local?}"}}},
	{method: "POST", path: "/api/broadcast_all", summary: "Send text to every connection of this node", response: "{delivered}", body: []apiField{
		{"data", "any", true, "JSON object, array or string"}}},
	{method: "POST", path: "/api/broadcast_all_bytes", summary: "Send a binary frame to every connection of this node", response: "{delivered}", body: []apiField{
		{"data", "base64", true, "the bytes, base64"}}},
	{method: "POST", path: "/api/send", summary: "Send text to one connection, unchanged", response: "{ok}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"data", "any", true, "JSON object, array or string"},
		{"event", "boolean", false, "send data (an object with t and p) through SendEvent: enveloped, compressed, MessagePack or sealed as the connection negotiated"}}},
	{method: "POST", path: "/api/send_event", summary: "Send an event in the WSE envelope (id, ts, seq; compressed over the threshold)", response: "{bytes}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"event", "object", true, `{"t": …, "p": …}`}}},
	{method: "POST", path: "/api/send_bytes", summary: "Send a binary frame to one connection", response: "{ok}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"data", "base64", true, "the bytes, base64"}}},
	{method: "POST", path: "/api/subscribe", summary: "Subscribe a connection, with presence and recovery", response: "{ok} or {recovery}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"topics", "array:string", true, "topics"},
		{"presence", "object", false, "presence data"}, {"recover", "boolean", false, "replay missed messages"},
		{"epoch", "string", false, "position to recover from"}, {"offset", "integer", false, "position to recover from"},
		{"queue_group", "string", false, "join this queue group of the topics instead (docs/subscriptions.md)"}}},
	{method: "POST", path: "/api/unsubscribe", summary: "Unsubscribe a connection from some or all topics", response: "{ok}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"topics", "array:string", false, "absent = every topic"},
		{"queue_group", "string", false, "leave this queue group of the topics instead (topics required)"}}},
	{method: "POST", path: "/api/set_topic_acl", summary: "Add topic rules to a connection's ACL", response: "{ok}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"allow", "array:string", false, "allow globs"},
		{"deny", "array:string", false, "deny globs"}}},
	{method: "POST", path: "/api/disconnect", summary: "Close a connection", response: "{ok}", body: []apiField{
		{"conn_id", "string", true, "connection id"}, {"code", "integer", false, "close code (default 1000)"},
		{"reason", "string", false, "close reason"}}},
	{method: "POST", path: "/api/drain", summary: "Lame-duck mode: refuse new connections, close the open ones so they reconnect elsewhere", response: "{connections_left}", body: []apiField{
		{"code", "integer", false, "close code (default 4300)"}, {"reason", "string", false, "close reason"},
		{"timeout_ms", "integer", false, "wait for them to go (default 10000, at most 60000)"}}},
	{method: "POST", path: "/api/token", summary: "Mint an HS256 token", response: "{token}", body: []apiField{
		{"sub", "string", true, "user id"}, {"ttl_s", "number", false, "lifetime in seconds (default 3600)"},
		{"claims", "object", false, "extra claims"}}},
}

// schemaOf returns the JSON Schema of a field type.
func schemaOf(typ string) map[string]any {
	switch {
	case typ == "any":
		return map[string]any{}
	case typ == "base64":
		return map[string]any{"type": "string", "contentEncoding": "base64"}
	case strings.HasPrefix(typ, "array:"):
		return map[string]any{"type": "array", "items": schemaOf(strings.TrimPrefix(typ, "array:"))}
	}
	return map[string]any{"type": typ}
}

// openAPIDocument builds the OpenAPI 3.1 document of apiOperations.
func openAPIDocument() map[string]any {
	errorRef := map[string]any{"content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	paths := map[string]any{}
	for _, op := range apiOperations {
		o := map[string]any{
			"summary":     op.summary,
			"operationId": strings.ToLower(op.method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(op.path),
			"responses": map[string]any{
				"200":     map[string]any{"description": op.response},
				"default": map[string]any{"description": "error (docs/api.md lists the codes)", "content": errorRef["content"]},
			},
			"security": []any{map[string]any{"apiKey": []any{}}},
		}
		var params []any
		if strings.Contains(op.path, "{topic}") {
			params = append(params, map[string]any{"name": "topic", "in": "path", "required": true,
				"description": "topic, URL-encoded (/ as %2F)", "schema": map[string]any{"type": "string"}})
		}
		for _, q := range op.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "required": q.required, "description": q.doc, "schema": schemaOf(q.typ)})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != nil {
			props := map[string]any{}
			var required []string
			for _, f := range op.body {
				sch := schemaOf(f.typ)
				sch["description"] = f.doc
				props[f.name] = sch
				if f.required {
					required = append(required, f.name)
				}
			}
			schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
			if required != nil {
				schema["required"] = required
			}
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
		}
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		item[strings.ToLower(op.method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "wse-server control API",
			"version":     wse.Version,
			"description": "JSON over HTTP control of the WSE engine; see docs/api.md.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"apiKey": map[string]any{"type": "http", "scheme": "bearer",
				"description": "--api-key, when set"}},
			"schemas": map[string]any{"Error": map[string]any{
				"type": "object", "required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{
					"type": "object", "required": []string{"code", "message"},
					"properties": map[string]any{"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}},
				}},
			}},
		},
	}
}

// openAPIJSON is the encoded document, built once.
var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(openAPIDocument(), "", "  ")
	if err != nil {
		panic("server: OpenAPI document: " + err.Error())
	}
	return b
})

// serveOpenAPI serves GET /api/openapi.json.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIJSON())
}
