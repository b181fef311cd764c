package main

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// TestMetricsEndpoint checks the wiring of -metrics-addr in the real
// binary: the endpoint serves the chat's counters, health, readiness and
// the profiler (package metrics tests the values in detail).
func TestMetricsEndpoint(t *testing.T) {
	bin := buildServer(t)
	for _, flagName := range []string{"-metrics-addr", "-pprof"} {
		t.Run(flagName, func(t *testing.T) {
			s := startServer(t, bin, nil, "-data-dir", t.TempDir(), flagName, "127.0.0.1:0")
			if s.metricsAddr == "" {
				t.Fatal("no metrics listening line in the log")
			}
			_, r := login(t, s.addr, "ann")
			bob, _ := login(t, s.addr, "bob")
			if _, err := bob.Write([]byte("/msg ann psst\n")); err != nil {
				t.Fatal(err)
			}
			readUntil(t, r, "*bob* psst")

			client := &http.Client{Timeout: waitLimit}
			get := func(path string) (int, string) {
				t.Helper()
				resp, err := client.Get("http://" + s.metricsAddr + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			tests := []struct {
				path string
				code int
				has  string
			}{
				{"/metrics", 200, `telchat_messages_total{kind="private"} 1`},
				{"/metrics", 200, `telchat_connections{listener="chat"} 2`},
				{"/metrics", 200, "telchat_build_info{"},
				{"/metrics", 200, "telchat_store_file_bytes "},
				{"/healthz", 200, "ok"},
				{"/readyz", 200, "ready"},
				{"/debug/pprof/", 200, "goroutine"},
			}
			for _, tc := range tests {
				if code, body := get(tc.path); code != tc.code || !strings.Contains(body, tc.has) {
					t.Errorf("GET %s = %d, want %d with %q; body:\n%.2000s", tc.path, code, tc.code, tc.has, body)
				}
			}
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := s.wait(t); err != nil {
				t.Fatalf("exit: %v", err)
			}
		})
	}
}
