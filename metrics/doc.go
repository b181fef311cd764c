// Package metrics serves telchat's operations endpoint: Prometheus metrics
// at /metrics, /healthz and /readyz for load balancers and supervisors, and
// net/http/pprof under /debug/pprof/.
//
// The metrics cost the chat nothing between scrapes: the hub and the
// client package count with plain atomics where things happen, and the
// collector here reads them when Prometheus asks (no labelled metric is
// looked up per message or per delivery). Names follow Prometheus
// conventions: a telchat_ prefix, base units (seconds, bytes), _total on
// counters.
package metrics
