package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// result is the outcome of one run.
type result struct {
	cfg  config
	hist *latencyHistogram
	// With several servers: lines delivered on their sender's server
	// (same) and lines that crossed from another server (cross).
	histSame, histCross *latencyHistogram
	perServer           []serverStats // by index in cfg.addrs

	connectTime time.Duration
	named       int64
	connectErrs int64

	sentBy       []int64       // lines sent, by sender index
	senderErrs   int64         // senders that failed to write
	expected     int64         // load lines the checked clients should get in total
	deliveries   int64         // distinct load lines the checked clients got
	deliveryTime time.Duration // from the start of sending to the last delivery
	doneTime     time.Duration // from the start of sending to the end of the wait

	lost, dups, reordered, bogus int64
	readerDrops                  int64 // checked clients disconnected early
	idleDrops                    int64 // idle clients disconnected early
	readersComplete              bool

	stalledCut   int64
	stalledBytes int64

	memBase, memNamed, memSettled, memEnd memorySample
	memBaseErr                            error
	syscw                                 int64
	haveSyscw                             bool

	cpu         cpuSample     // CPU time the servers and NATS used while sending
	counters    counterSample // growth of the cluster's counters while sending
	countersErr error

	churn    *churnStats
	probeErr error

	errorSamples []string
	failures     []string
	pass         bool
}

// judge fills failures and pass.
func (r *result) judge() {
	c := r.cfg
	fail := func(format string, args ...any) { r.failures = append(r.failures, fmt.Sprintf(format, args...)) }
	if r.lost > 0 || r.dups > 0 || r.reordered > 0 || r.bogus > 0 {
		fail("lost=%d dup=%d reordered=%d bogus=%d", r.lost, r.dups, r.reordered, r.bogus)
	}
	if r.readerDrops > 0 {
		fail("%d checked clients were disconnected", r.readerDrops)
	}
	if r.senderErrs > 0 {
		fail("%d senders failed", r.senderErrs)
	}
	if r.connectErrs > 0 && !c.allowConnectErrors {
		fail("%d clients failed to connect or get named", r.connectErrs)
	}
	if r.idleDrops > 0 && !c.allowConnectErrors {
		fail("%d idle clients were disconnected", r.idleDrops)
	}
	if c.expectStalledCut && r.stalledCut < int64(c.stalled) {
		fail("only %d of %d stalled clients were cut", r.stalledCut, c.stalled)
	}
	if r.churn != nil && r.churn.takenNickAccepted > 0 {
		fail("server accepted a nickname already in use %d times", r.churn.takenNickAccepted)
	}
	if c.churn > 0 && r.probeErr != nil {
		fail("final probe client failed: %v", r.probeErr)
	}
	r.pass = len(r.failures) == 0
}

// mode names the kind of run.
func (r *result) mode() string {
	if r.cfg.churn > 0 {
		return "churn"
	}
	return "load"
}

// msgsPerSecond is the delivery rate over the sending period.
func (r *result) msgsPerSecond() float64 {
	if r.deliveryTime <= 0 {
		return 0
	}
	return float64(r.deliveries) / r.deliveryTime.Seconds()
}

// haveMemory reports whether server memory was sampled.
func (r *result) haveMemory() bool { return r.memBaseErr == nil }

// rssPerConnBytes is the server's resident memory growth per named client.
func (r *result) rssPerConnBytes() int64 {
	if r.named == 0 {
		return 0
	}
	return (r.memSettled.RSSKiB - r.memBase.RSSKiB) * 1024 / r.named
}

// print writes the human summary and the RESULT line.
func (r *result) print(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "loadgen run=%s mode=%s proto=%s addr=%s clients=%d idle=%d stalled=%d senders=%d lines=%d size=%d rate=%g\n",
		c.run, r.mode(), c.proto, c.addr, c.clients, c.idle, c.stalled, c.senders, c.lines, c.size, c.rate)
	fmt.Fprintf(w, "connect:    %d/%d named in %.3fs (%.0f/s), errors %d\n", r.named, c.totalClients(),
		r.connectTime.Seconds(), float64(r.named)/max(r.connectTime.Seconds(), 1e-9), r.connectErrs)
	fmt.Fprintf(w, "delivery:   %d/%d lines in %.3fs = %.0f msgs/s (all readers complete: %v)\n",
		r.deliveries, r.expected, r.deliveryTime.Seconds(), r.msgsPerSecond(), r.readersComplete)
	fmt.Fprintf(w, "latency:    p50=%s p90=%s p99=%s max=%s\n", fmtMillis(r.hist.quantile(0.5)),
		fmtMillis(r.hist.quantile(0.9)), fmtMillis(r.hist.quantile(0.99)), fmtMillis(r.hist.maximum()))
	fmt.Fprintf(w, "checks:     lost=%d dup=%d reordered=%d bogus=%d reader_disconnects=%d sender_errors=%d idle_disconnects=%d\n",
		r.lost, r.dups, r.reordered, r.bogus, r.readerDrops, r.senderErrs, r.idleDrops)
	if c.stalled > 0 {
		fmt.Fprintf(w, "stalled:    %d/%d cut by the server (%d bytes drained afterwards)\n", r.stalledCut, c.stalled, r.stalledBytes)
	}
	if r.haveMemory() {
		fmt.Fprintf(w, "server rss: base=%dKiB named=%dKiB settled=%dKiB end=%dKiB peak=%dKiB per_conn=%dB\n",
			r.memBase.RSSKiB, r.memNamed.RSSKiB, r.memSettled.RSSKiB, r.memEnd.RSSKiB, r.memEnd.PeakKiB, r.rssPerConnBytes())
	}
	if r.haveSyscw {
		fmt.Fprintf(w, "server io:  %d write syscalls, %s per delivered line\n", r.syscw, r.syscwPerDelivery())
	}
	if len(c.pids) > 0 || c.natsPID > 0 {
		fmt.Fprintf(w, "cpu:        while sending: servers %s s", r.cpuSeconds(r.cpu.servers, r.cpu.haveServers))
		if c.natsPID > 0 {
			fmt.Fprintf(w, ", NATS %s s", r.cpuSeconds(r.cpu.nats, r.cpu.haveNATS))
		}
		fmt.Fprintln(w)
	}
	if len(c.addrs) > 1 {
		r.printSpread(w)
	}
	if c.natsVarz != "" || len(c.metricsURLs) > 0 {
		fmt.Fprintf(w, "messages:   per load line sent (%d), while sending: NATS in=%s out=%s; telchat published lines=%s events=%s\n",
			r.sent(), r.perLine(r.counters.natsIn, r.counters.haveNATS), r.perLine(r.counters.natsOut, r.counters.haveNATS),
			r.perLine(r.counters.linesPub, r.counters.haveLines), r.perLine(r.counters.eventsPub, r.counters.haveEv))
	}
	if r.churn != nil {
		r.churn.print(w)
		probe := "ok"
		if r.probeErr != nil {
			probe = r.probeErr.Error()
		}
		fmt.Fprintf(w, "probe:      %s\n", probe)
	}
	for _, e := range r.errorSamples {
		fmt.Fprintf(w, "error:      %s\n", e)
	}
	for _, f := range r.failures {
		fmt.Fprintf(w, "FAIL:       %s\n", f)
	}
	fmt.Fprintln(w, r.resultLine())
}

// syscwPerDelivery formats write syscalls per delivered line, "na" if unknown.
func (r *result) syscwPerDelivery() string {
	if !r.haveSyscw || r.deliveries == 0 {
		return "na"
	}
	return fmt.Sprintf("%.4f", float64(r.syscw)/float64(r.deliveries))
}

// resultLine is the machine-readable summary.
func (r *result) resultLine() string {
	c := r.cfg
	var b strings.Builder
	b.WriteString("RESULT")
	kv := func(k string, v any) { fmt.Fprintf(&b, " %s=%v", k, v) }
	kv("run", c.run)
	kv("mode", r.mode())
	kv("proto", c.proto)
	kv("clients", c.clients)
	kv("idle", c.idle)
	kv("stalled", c.stalled)
	kv("senders", c.senders)
	kv("lines", c.lines)
	kv("size", c.size)
	kv("rate", c.rate)
	kv("named", r.named)
	kv("connect_errors", r.connectErrs)
	kv("connect_s", fmt.Sprintf("%.3f", r.connectTime.Seconds()))
	kv("deliveries", r.deliveries)
	kv("expected", r.expected)
	kv("servers", len(c.addrs))
	kv("sent", r.sent())
	kv("delivery_s", fmt.Sprintf("%.3f", r.deliveryTime.Seconds()))
	kv("msgs_per_s", fmt.Sprintf("%.0f", r.msgsPerSecond()))
	kv("p50_ms", fmtMillisBare(r.hist.quantile(0.5)))
	kv("p90_ms", fmtMillisBare(r.hist.quantile(0.9)))
	kv("p99_ms", fmtMillisBare(r.hist.quantile(0.99)))
	kv("max_ms", fmtMillisBare(r.hist.maximum()))
	if len(c.addrs) > 1 {
		kv("same_p50_ms", fmtMillisBare(r.histSame.quantile(0.5)))
		kv("same_p99_ms", fmtMillisBare(r.histSame.quantile(0.99)))
		kv("cross_p50_ms", fmtMillisBare(r.histCross.quantile(0.5)))
		kv("cross_p99_ms", fmtMillisBare(r.histCross.quantile(0.99)))
		kv("cross_max_ms", fmtMillisBare(r.histCross.maximum()))
	}
	kv("lost", r.lost)
	kv("dup", r.dups)
	kv("reordered", r.reordered)
	kv("bogus", r.bogus)
	kv("reader_disconnects", r.readerDrops)
	kv("sender_errors", r.senderErrs)
	kv("idle_disconnects", r.idleDrops)
	kv("stalled_cut", r.stalledCut)
	if r.haveMemory() {
		kv("rss_base_kb", r.memBase.RSSKiB)
		kv("rss_named_kb", r.memSettled.RSSKiB)
		kv("rss_end_kb", r.memEnd.RSSKiB)
		kv("rss_peak_kb", r.memEnd.PeakKiB)
		kv("rss_per_conn_b", r.rssPerConnBytes())
	} else {
		for _, k := range []string{"rss_base_kb", "rss_named_kb", "rss_end_kb", "rss_peak_kb", "rss_per_conn_b"} {
			kv(k, "na")
		}
	}
	kv("syscw_per_delivery", r.syscwPerDelivery())
	kv("server_cpu_s", r.cpuSeconds(r.cpu.servers, r.cpu.haveServers))
	if c.natsPID > 0 {
		kv("nats_cpu_s", r.cpuSeconds(r.cpu.nats, r.cpu.haveNATS))
	}
	if c.natsVarz != "" || len(c.metricsURLs) > 0 {
		kv("nats_in_per_line", r.perLine(r.counters.natsIn, r.counters.haveNATS))
		kv("nats_out_per_line", r.perLine(r.counters.natsOut, r.counters.haveNATS))
		kv("pub_lines_per_line", r.perLine(r.counters.linesPub, r.counters.haveLines))
		kv("pub_events_per_line", r.perLine(r.counters.eventsPub, r.counters.haveEv))
	}
	if r.churn != nil {
		r.churn.resultFields(kv)
		kv("probe", r.probeErr == nil)
	}
	kv("pass", r.pass)
	return b.String()
}

// fmtMillis formats d in milliseconds with a unit.
func fmtMillis(d time.Duration) string { return fmtMillisBare(d) + "ms" }

// fmtMillisBare formats d in milliseconds with three decimals.
func fmtMillisBare(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}

// printSpread writes the per-server part of the human summary: each
// server's checked clients and what they got, and the latency of lines
// that stayed on their sender's server against lines that crossed.
func (r *result) printSpread(w io.Writer) {
	for i, s := range r.perServer {
		fmt.Fprintf(w, "server %d:   %s clients=%d sent_here=%d delivered=%d/%d lost=%d dup=%d reordered=%d\n",
			i+1, r.cfg.addrs[i], s.clients, s.sentHere, s.deliveries, s.expected, s.lost, s.dups, s.reordered)
	}
	for _, h := range []struct {
		name string
		h    *latencyHistogram
	}{{"same server", r.histSame}, {"cross server", r.histCross}} {
		fmt.Fprintf(w, "latency %s: %d lines p50=%s p99=%s max=%s\n", h.name, h.h.count(),
			fmtMillis(h.h.quantile(0.5)), fmtMillis(h.h.quantile(0.99)), fmtMillis(h.h.maximum()))
	}
}

// perLine formats n per load line sent, "na" when unknown.
func (r *result) perLine(n int64, have bool) string {
	if !have || r.sent() == 0 {
		return "na"
	}
	return fmt.Sprintf("%.3f", float64(n)/float64(r.sent()))
}

// cpuSeconds formats a CPU time in seconds, "na" when unknown.
func (r *result) cpuSeconds(d time.Duration, have bool) string {
	if !have {
		return "na"
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}
