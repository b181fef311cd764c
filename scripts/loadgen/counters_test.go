package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParseVarz(t *testing.T) {
	tests := []struct {
		body            string
		wantIn, wantOut int64
		wantErr         bool
	}{
		{`{"server_id":"x","in_msgs":10430,"out_msgs":30838,"in_bytes":5}`, 10430, 30838, false},
		{`{"in_msgs":1}`, 0, 0, true},
		{`not json`, 0, 0, true},
	}
	for _, tc := range tests {
		in, out, err := parseVarz([]byte(tc.body))
		if (err != nil) != tc.wantErr || in != tc.wantIn || out != tc.wantOut {
			t.Errorf("parseVarz(%s) = %d %d %v; want %d %d error %v", tc.body, in, out, err, tc.wantIn, tc.wantOut, tc.wantErr)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP telchat_cluster_lines_published_total Lines.
# TYPE telchat_cluster_lines_published_total counter
telchat_cluster_lines_published_total 4071
telchat_cluster_events_published_total 4.1e+03
telchat_messages_total{kind="room"} 7
telchat_cluster_lines_published_total_other 1
`
	got, err := parseMetrics(strings.NewReader(text), metricLinesPublished, metricEventsPublished, "absent_total")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[metricLinesPublished] != 4071 || got[metricEventsPublished] != 4100 {
		t.Errorf("parseMetrics = %v", got)
	}
	if _, err := parseMetrics(strings.NewReader(metricLinesPublished+" x\n"), metricLinesPublished); err == nil {
		t.Error("a bad value was accepted")
	}
}

func TestCheckCounterURL(t *testing.T) {
	tests := []struct {
		url         string
		allowRemote bool
		wantErr     bool
	}{
		{"http://127.0.0.1:8222/varz", false, false},
		{"http://localhost/metrics", false, false},
		{"http://[::1]:9100/metrics", false, false},
		{"http://10.0.0.5:8222/varz", false, true},
		{"http://10.0.0.5:8222/varz", true, false},
		{"https://127.0.0.1:8222/varz", false, true},
		{"127.0.0.1:8222", false, true},
	}
	for _, tc := range tests {
		if err := checkCounterURL(tc.url, tc.allowRemote); (err != nil) != tc.wantErr {
			t.Errorf("checkCounterURL(%q, %v) = %v, want error %v", tc.url, tc.allowRemote, err, tc.wantErr)
		}
	}
}

// TestRunLoadCounters: the counters are read before and after sending and
// reported per load line sent.
func TestRunLoadCounters(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("-recv poll needs Linux")
	}
	s := startFakeCluster(t, relayFaithfully, 2)
	// Each read of /varz adds 120 messages in and 240 out; each read of
	// /metrics adds 60 lines and 66 events: the two URLs are read
	// one after the other, so the growth is 4x60 and 4x66.
	var varzReads, metricsReads atomic.Int64
	varz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := varzReads.Add(1)
		fmt.Fprintf(w, `{"in_msgs":%d,"out_msgs":%d}`, 120*n, 240*n)
	}))
	defer varz.Close()
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := metricsReads.Add(1)
		fmt.Fprintf(w, "%s %d\n%s %d\n", metricLinesPublished, 60*n, metricEventsPublished, 66*n)
	}))
	defer metrics.Close()
	cfg, err := parseConfig([]string{"-addr", s.addr(), "-clients", "4", "-senders", "2", "-lines", "30", "-size", "40",
		"-timeout", "10s", "-quiet", "-nats-varz", varz.URL + "/varz", "-metrics", metrics.URL + "/metrics," + metrics.URL + "/metrics"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := runLoad(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := &strings.Builder{}
	res.print(out)
	if !res.pass || res.countersErr != nil {
		t.Fatalf("pass %v, counters %v\n%s", res.pass, res.countersErr, out)
	}
	for _, want := range []string{"nats_in_per_line=2.000 ", "nats_out_per_line=4.000 ", "pub_lines_per_line=4.000 ", "pub_events_per_line=4.400 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
