package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"telchat/client"
	"telchat/cluster"
	"telchat/internal/servertest"
	"telchat/version"
)

// startMetrics serves the endpoint for s on 127.0.0.1:0.
func startMetrics(t *testing.T, s *servertest.Server, ready func() error) string {
	t.Helper()
	return startMetricsFor(t, Sources{Hub: s.Hub, Clients: s.Server}, ready)
}

// startMetricsFor is startMetrics with more sources (a cluster link).
func startMetricsFor(t *testing.T, src Sources, ready func() error) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	storeFile := filepath.Join(t.TempDir(), "telchat.db")
	if err := os.WriteFile(storeFile, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src.StoreFile = storeFile
	src.Build = version.Info{Version: "v1.2.3-test", Commit: "0123456789abcdef", Go: "go1.x"}
	srv, err := NewServer(ln, Config{
		Sources: src,
		Ready:   ready,
		Log:     zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + srv.Addr().String()
}

// get fetches url over real TCP and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: servertest.Timeout}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape fetches /metrics and parses it.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, body)
	}
	return fams
}

// value returns the value of the sample of name whose labels include
// labels ("k=v" pairs), or -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func TestMetricsAfterRealChat(t *testing.T) {
	s := servertest.Start(t, servertest.Config{Client: client.Config{MaxPerIP: 4}})
	base := startMetrics(t, s, nil)

	ann := s.Login(t, "ann")
	bob := s.Login(t, "bob")
	cat := s.Login(t, "cat")
	for _, line := range []string{"one", "two", "three"} {
		ann.Send(line)
		bob.Expect("<ann> " + line)
		cat.Expect("<ann> " + line)
	}
	bob.Send("/msg ann psst")
	ann.Expect("*bob* psst")
	cat.Send("/join side")
	cat.Expect("You are now in #side")
	// A fifth connection from 127.0.0.1 (ann, bob, cat and dan are four).
	dan := s.Dial(t)
	refused := s.Dial(t)
	refused.Expect("Connection refused: too many connections from your address")
	dan.ExpectPrompt()
	cat.Send("/quit")
	cat.ExpectEOF()
	servertest.WaitFor(t, "cat's session to close", func() bool { return s.Server.Active() == 3 })

	var fams map[string]*dto.MetricFamily
	servertest.WaitFor(t, "the room gauges (refreshed every second)", func() bool {
		fams = scrape(t, base)
		return value(fams, "telchat_rooms") == 1 && value(fams, "telchat_users") == 2
	})
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"telchat_build_info", []string{"version=v1.2.3-test", "commit=0123456789ab", "goversion=go1.x"}, 1},
		{"telchat_connections", []string{"listener=chat"}, 3},
		{"telchat_connections_accepted_total", []string{"listener=chat"}, 5},
		{"telchat_connections_refused_total", []string{"reason=per_ip"}, 1},
		{"telchat_connections_refused_total", []string{"reason=full"}, 0},
		{"telchat_connections_refused_total", []string{"reason=banned"}, 0},
		{"telchat_disconnects_total", []string{"reason=quit"}, 1},
		{"telchat_disconnects_total", []string{"reason=slow"}, 0},
		{"telchat_messages_total", []string{"kind=room"}, 3},
		{"telchat_messages_total", []string{"kind=private"}, 1},
		{"telchat_deliveries_total", nil, 6},
		{"telchat_lines_paced_total", nil, 0},
		{"telchat_outbound_queue_bytes", nil, 0},
		{"telchat_bans", nil, 0},
		{"telchat_accounts", nil, 0},
		{"telchat_tls_handshake_failures_total", nil, 0},
		{"telchat_connections", []string{"listener=tls"}, 0},
		{"telchat_store_file_bytes", nil, 3},
		{"telchat_log_lines_left_out_total", []string{"kind=refused"}, 0},
	}
	for _, tc := range tests {
		if got := value(fams, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// Counted, with values that depend on timing: more than zero.
	for _, name := range []string{"telchat_write_syscalls_total", "telchat_sent_bytes_total", "telchat_received_bytes_total", "telchat_hub_lag_seconds", "go_goroutines", "process_open_fds"} {
		if got := value(fams, name); got <= 0 {
			t.Errorf("%s = %v, want > 0", name, got)
		}
	}
	// Every line the clients sent (names, 3 lines, /msg, /join, /quit) went
	// through the hub's inbox, and so did every connect and leave.
	if got := value(fams, "telchat_hub_lag_seconds"); got < 12 {
		t.Errorf("hub lag observations = %v, want at least 12", got)
	}
}

func TestHealthReadyAndPprof(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	var draining atomic.Bool
	base := startMetrics(t, s, func() error {
		if draining.Load() {
			return errors.New("shutting down")
		}
		return nil
	})
	tests := []struct {
		path     string
		draining bool
		code     int
		body     string
	}{
		{"/healthz", false, 200, "ok\n"},
		{"/readyz", false, 200, "ready\n"},
		{"/readyz", true, 503, "not ready: shutting down\n"},
		{"/healthz", true, 200, "ok\n"},
		{"/debug/pprof/cmdline", false, 200, ""},
		{"/nothing", false, 404, ""},
	}
	for _, tc := range tests {
		draining.Store(tc.draining)
		code, body := get(t, base+tc.path)
		if code != tc.code || tc.body != "" && body != tc.body {
			t.Errorf("GET %s (draining %v) = %d %q, want %d %q", tc.path, tc.draining, code, body, tc.code, tc.body)
		}
	}
	if code, body := get(t, base+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/ = %d %.80q", code, body)
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr        string
		allowRemote bool
		ok          bool
	}{
		{"127.0.0.1:0", false, true},
		{"localhost:0", false, true},
		{"0.0.0.0:0", false, false},
		{":0", false, false},
		{"192.0.2.1:9100", false, false},
		{"0.0.0.0:0", true, true},
		{"no-port", false, false},
	}
	for _, tc := range tests {
		ln, err := Listen(tc.addr, tc.allowRemote)
		if (err == nil) != tc.ok {
			t.Errorf("Listen(%q, %v) error %v, want ok %v", tc.addr, tc.allowRemote, err, tc.ok)
		}
		if ln != nil {
			_ = ln.Close()
		}
	}
}

func TestPprofRefusesRemoteClients(t *testing.T) {
	h := loopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	// Served on a non-loopback address of this machine when it has one.
	addrs, _ := net.InterfaceAddrs()
	var ip net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	code, body := get(t, "http://"+ln.Addr().String()+"/debug/pprof/")
	if code != http.StatusForbidden {
		t.Errorf("from %s: %d %q, want 403", ip, code, body)
	}
}

// TestDashboardMetricsExist checks that every metric the example Grafana
// dashboard queries is one the endpoint serves.
func TestDashboardMetricsExist(t *testing.T) {
	b, err := os.ReadFile("../scripts/grafana-telchat.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-telchat.json: %v", err)
	}
	s := servertest.Start(t, servertest.Config{})
	fams := scrape(t, startMetrics(t, s, nil))
	name := regexp.MustCompile(`\b(?:telchat|process|go)_[a-z_]+\b`)
	queried := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, m := range name.FindAllString(target.Expr, -1) {
				queried++
				base := m
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if f, ok := fams[strings.TrimSuffix(m, suffix)]; ok && f.GetType() == dto.MetricType_HISTOGRAM {
						base = strings.TrimSuffix(m, suffix)
					}
				}
				if _, ok := fams[base]; !ok {
					t.Errorf("panel %q queries %s, which /metrics does not serve", p.Title, m)
				}
			}
		}
	}
	if queried < 10 {
		t.Errorf("found only %d metric names in the dashboard's queries", queried)
	}
}

// fakeLink stands for a cluster link.
type fakeLink struct{ st cluster.Stats }

func (fakeLink) Linked() bool           { return true }
func (f fakeLink) Stats() cluster.Stats { return f.st }

// TestClusterMetrics: the cluster link's counters are exported, the lines
// published apart from the other events.
func TestClusterMetrics(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	link := fakeLink{cluster.Stats{Published: 12, Received: 30, Lines: 9, Dropped: 2}}
	fams := scrape(t, startMetricsFor(t, Sources{Hub: s.Hub, Clients: s.Server, Cluster: link}, nil))
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"telchat_cluster_linked", 1},
		{"telchat_cluster_events_published_total", 12},
		{"telchat_cluster_events_received_total", 30},
		{"telchat_cluster_events_dropped_total", 2},
		{"telchat_cluster_lines_published_total", 9},
	} {
		if got := value(fams, tc.name); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
}
