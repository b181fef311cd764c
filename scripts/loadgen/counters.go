package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file reads the cluster's message counters at the start and at the
// end of the send phase, so that a cluster run can say what a chat line
// costs on NATS: the NATS server's /varz (in_msgs, out_msgs: everything
// the broker took in and handed out) and each telchat server's /metrics
// (telchat_cluster_lines_published_total: lines this server published;
// telchat_cluster_events_published_total: lines, presence and heartbeats).

// Names of the telchat metrics read from -metrics.
const (
	metricLinesPublished  = "telchat_cluster_lines_published_total"
	metricEventsPublished = "telchat_cluster_events_published_total"
)

// counterTimeout bounds one HTTP request for counters.
const counterTimeout = 3 * time.Second

// maxCounterBody bounds what is read of one /varz or /metrics answer.
const maxCounterBody = 4 << 20

// counterSample is the cluster's counters at one moment.
type counterSample struct {
	natsIn, natsOut             int64 // NATS server: messages in and out
	linesPub, eventsPub         int64 // telchat servers, summed
	haveNATS, haveLines, haveEv bool
}

// sub returns the growth from before to s.
func (s counterSample) sub(before counterSample) counterSample {
	return counterSample{
		natsIn: s.natsIn - before.natsIn, natsOut: s.natsOut - before.natsOut,
		linesPub: s.linesPub - before.linesPub, eventsPub: s.eventsPub - before.eventsPub,
		haveNATS: s.haveNATS && before.haveNATS, haveLines: s.haveLines && before.haveLines,
		haveEv: s.haveEv && before.haveEv,
	}
}

// checkCounterURL refuses a counter URL that is not http on a loopback
// host, unless remote targets are allowed.
func checkCounterURL(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q: want http://HOST:PORT/PATH: %w", raw, errBadConfig)
	}
	if allowRemote {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if err := checkLoopback(net.JoinHostPort(u.Hostname(), port), false); err != nil {
		return fmt.Errorf("%s: %w", raw, err)
	}
	return nil
}

// splitURLs splits a comma-separated list of URLs ("" gives none).
func splitURLs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// sampleCounters reads -nats-varz and every -metrics URL. A counter that
// cannot be read is left out (its have flag false) and the error returned.
func (lr *loadRun) sampleCounters() (counterSample, error) {
	var s counterSample
	var errs []error
	if lr.cfg.natsVarz != "" {
		in, out, err := readVarz(lr.cfg.natsVarz)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.natsIn, s.natsOut, s.haveNATS = in, out, true
		}
	}
	if len(lr.cfg.metricsURLs) > 0 {
		s.haveLines, s.haveEv = true, true
		for _, u := range lr.cfg.metricsURLs {
			m, err := readMetrics(u, metricLinesPublished, metricEventsPublished)
			if err != nil {
				errs = append(errs, err)
				s.haveLines, s.haveEv = false, false
				continue
			}
			lines, okL := m[metricLinesPublished]
			events, okE := m[metricEventsPublished]
			s.linesPub += lines
			s.eventsPub += events
			s.haveLines = s.haveLines && okL
			s.haveEv = s.haveEv && okE
		}
	}
	return s, errors.Join(errs...)
}

// fetch GETs u and returns its body (bounded).
func fetch(u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), counterTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCounterBody))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return body, nil
}

// readVarz reads in_msgs and out_msgs from a NATS server's /varz.
func readVarz(u string) (in, out int64, err error) {
	body, err := fetch(u)
	if err != nil {
		return 0, 0, err
	}
	return parseVarz(body)
}

// parseVarz extracts in_msgs and out_msgs from the JSON of /varz.
func parseVarz(body []byte) (in, out int64, err error) {
	var v struct {
		InMsgs  *int64 `json:"in_msgs"`
		OutMsgs *int64 `json:"out_msgs"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, 0, fmt.Errorf("varz: %w", err)
	}
	if v.InMsgs == nil || v.OutMsgs == nil {
		return 0, 0, fmt.Errorf("varz: in_msgs/out_msgs: %w", errFieldMissing)
	}
	return *v.InMsgs, *v.OutMsgs, nil
}

// readMetrics reads the named counters from a Prometheus text endpoint.
func readMetrics(u string, names ...string) (map[string]int64, error) {
	body, err := fetch(u)
	if err != nil {
		return nil, err
	}
	return parseMetrics(strings.NewReader(string(body)), names...)
}

// parseMetrics returns the values of the named samples (without labels)
// found in Prometheus text format; names not found are absent.
func parseMetrics(r io.Reader, names ...string) (map[string]int64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	got := map[string]int64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok || !want[name] {
			continue
		}
		value, _, _ = strings.Cut(strings.TrimSpace(value), " ") // a timestamp may follow
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("metric %s value %q: %w", name, value, err)
		}
		got[name] = int64(f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan metrics: %w", err)
	}
	return got, nil
}
