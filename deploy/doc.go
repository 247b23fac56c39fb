// Package deploy holds what operators deploy beside wse-server — the
// Grafana dashboard (grafana/wse-dashboard.json) and the Prometheus alert
// rules (prometheus/wse-alerts.yml) — and the tests that keep them true:
// the rules load with Prometheus's own rule parser, and every series the
// dashboard and the rules query is one a running wse-server exports.
//
// It is a nested module so that the Prometheus server's packages, which the
// tests use, stay out of the root module's dependencies.
package deploy
