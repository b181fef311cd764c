package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// clientReadBuf is the read buffer of a checked client; lines longer than
// this are assembled in a scratch slice, so it only needs to fit most lines.
const clientReadBuf = 1024

// idleReadBuf is the read buffer of an idle or stalled client.
const idleReadBuf = 256

// stalledRcvBuf is SO_RCVBUF of a stalled client, small so that the server
// sees the stall soon instead of filling megabytes of kernel buffers.
const stalledRcvBuf = 4096

// maxErrorSamples bounds the error messages kept for the report.
const maxErrorSamples = 5

// Phases of a run, shown in the progress line.
const (
	phaseConnect int32 = iota
	phaseHold
	phaseSend
	phaseDrain
	phaseStalled
	phaseDone
)

// phaseNames names the phases for the progress line.
var phaseNames = [...]string{"connect", "hold", "send", "drain", "stalled", "done"}

// receiver is a client whose input is checked.
type receiver struct {
	lr       *loadRun
	index    int
	lc       *lineConn
	trackers []seqTracker // by sender index
	unique   atomic.Int64 // distinct load lines received so far
	exited   atomic.Bool

	// Owned by the reading goroutine until exited is set.
	dups, reordered, bogus int64
	lastNano               int64  // arrival time of the latest load line
	err                    error  // why reading stopped before the run stopped it
	carry                  []byte // a partial line, when read by a poller
	ps                     parseState
	pong                   []byte // reply to a server PING, reused
}

// finish marks a polled receiver as done reading.
func (rc *receiver) finish() {
	rc.exited.Store(true)
	rc.lr.readersExited.Done()
}

// loadRun is the shared state of one run.
type loadRun struct {
	cfg      config
	proto    protocol
	deadline time.Time
	nicks    []string // nicknames of the up-front clients, by index
	hist     latencyHistogram
	// With several servers: the latency of lines whose sender is on the
	// receiver's server, and of lines that crossed between servers.
	histSame, histCross latencyHistogram
	stopping            atomic.Bool
	phase               atomic.Int32

	conns     []*lineConn // up-front clients by index, nil when connecting failed
	receivers []*receiver // by index for the checked clients, nil when connecting failed
	named     atomic.Int64
	connErrs  atomic.Int64
	idleDrops atomic.Int64
	errs      errorSamples

	readersExited sync.WaitGroup
	polls         *pollGroup // nil when every receiver has its own goroutine
	pollersExited sync.WaitGroup
}

// errorSamples keeps the first few errors of a kind for the report.
type errorSamples struct {
	mu      sync.Mutex
	samples []string
}

// add keeps err if fewer than maxErrorSamples are kept.
func (e *errorSamples) add(what string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.samples) < maxErrorSamples {
		e.samples = append(e.samples, what+": "+err.Error())
	}
}

// list returns the kept errors.
func (e *errorSamples) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.samples...)
}

// runLoad performs one run (plain load or churn) and returns its result.
func runLoad(cfg config, progress io.Writer) (*result, error) {
	start := time.Now()
	lr := &loadRun{
		cfg:       cfg,
		deadline:  start.Add(cfg.timeout),
		nicks:     make([]string, cfg.totalClients()),
		conns:     make([]*lineConn, cfg.totalClients()),
		receivers: make([]*receiver, cfg.clients),
	}
	for i := range lr.nicks {
		lr.nicks[i] = nickFor(cfg.run, i)
	}
	proto, err := newProtocol(cfg)
	if err != nil {
		return nil, err
	}
	lr.proto = proto
	res := &result{cfg: cfg, hist: &lr.hist, histSame: &lr.histSame, histCross: &lr.histCross, sentBy: make([]int64, cfg.senders)}
	res.memBase, res.memBaseErr = lr.sampleMemory()

	if cfg.recv == recvPoll {
		polls, err := newPollGroup(lr, runtime.GOMAXPROCS(0))
		if err != nil {
			return nil, err
		}
		lr.polls = polls
	}

	stopProgress := lr.startProgress(progress, res)
	defer stopProgress()

	lr.connectAll()
	res.connectTime = time.Since(start)
	res.named = lr.named.Load()
	res.connectErrs = lr.connErrs.Load()
	res.memNamed, _ = lr.sampleMemory()

	if cfg.hold > 0 {
		lr.phase.Store(phaseHold)
		sleepUntil(earliest(time.Now().Add(cfg.hold), lr.deadline))
	}
	res.memSettled, _ = lr.sampleMemory()

	lr.phase.Store(phaseSend)
	syscwBefore, syscwErr := lr.sampleSyscw()
	countersBefore, countersErr := lr.sampleCounters()
	cpuBefore := lr.sampleCPU()
	sendStart := time.Now()
	sendUntil := lr.deadline
	var churn *churnRun
	if cfg.churn > 0 {
		sendUntil = sendStart.Add(cfg.churn)
		churn = newChurnRun(lr, sendUntil)
		churn.start()
	}
	senderErrs := lr.sendAll(sendStart, sendUntil, res.sentBy)
	if churn != nil {
		churn.wait()
		res.churn = churn.stats()
	}
	res.senderErrs = senderErrs

	lr.phase.Store(phaseDrain)
	expected := lr.expectedPerReceiver(res.sentBy)
	drainUntil := lr.deadline
	if cfg.churn > 0 {
		drainUntil = earliest(time.Now().Add(30*time.Second), lr.deadline)
	}
	res.readersComplete = lr.waitReaders(expected, drainUntil)
	res.doneTime = time.Since(sendStart)
	if syscwErr == nil {
		if after, err := lr.sampleSyscw(); err == nil {
			res.syscw, res.haveSyscw = after-syscwBefore, true
		}
	}
	res.cpu = lr.sampleCPU().sub(cpuBefore)
	if cfg.natsVarz != "" || len(cfg.metricsURLs) > 0 {
		after, err := lr.sampleCounters()
		res.counters = after.sub(countersBefore)
		res.countersErr = errors.Join(countersErr, err)
		if res.countersErr != nil {
			lr.errs.add("counters", res.countersErr)
		}
	}
	res.memEnd, _ = lr.sampleMemory()

	if cfg.stalled > 0 {
		lr.phase.Store(phaseStalled)
		res.stalledCut, res.stalledBytes = lr.checkStalled()
	}
	if churn != nil {
		res.probeErr = churn.probe()
	}
	lr.phase.Store(phaseDone)
	lr.stopAndQuit()
	lr.collect(res, expected, sendStart)
	res.idleDrops = lr.idleDrops.Load()
	res.errorSamples = lr.errs.list()
	res.judge()
	return res, nil
}

// connectAll opens and names every up-front client and starts its reader.
// It returns when each client is named or has failed.
func (lr *loadRun) connectAll() {
	cfg := lr.cfg
	ctx, cancel := context.WithDeadline(context.Background(), lr.deadline)
	defer cancel()
	slots := make(chan struct{}, cfg.dialConcurrency)
	var settled sync.WaitGroup
	for i := range cfg.totalClients() {
		settled.Add(1)
		go func() {
			slots <- struct{}{}
			lc, err := lr.openClient(ctx, i)
			<-slots
			if err != nil {
				lr.connErrs.Add(1)
				lr.errs.add(fmt.Sprintf("client %d", i), err)
				settled.Done()
				return
			}
			lr.conns[i] = lc
			lr.named.Add(1)
			if i < cfg.clients {
				rc := &receiver{lr: lr, index: i, lc: lc, trackers: make([]seqTracker, cfg.senders)}
				for s := range rc.trackers {
					rc.trackers[s] = newSeqTracker()
				}
				lr.receivers[i] = rc
				lr.readersExited.Add(1)
				settled.Done()
				if lr.polls != nil {
					err := lr.polls.add(rc)
					if err == nil {
						return
					}
					if !errors.Is(err, errNotPolled) {
						lr.errs.add(fmt.Sprintf("client %d (reads on its own goroutine)", i), err)
					}
				}
				lr.readLoop(rc)
				return
			}
			if i < cfg.clients+cfg.idle {
				lr.readersExited.Add(1)
				settled.Done()
				lr.drainIdle(lc)
				return
			}
			settled.Done() // stalled: never reads
		}()
	}
	settled.Wait()
}

// openClient dials client i and registers its nickname.
func (lr *loadRun) openClient(ctx context.Context, i int) (*lineConn, error) {
	o := dialOptions{addr: lr.cfg.addrOf(i), deadline: lr.deadline, readBuf: clientReadBuf}
	switch {
	case i >= lr.cfg.clients+lr.cfg.idle:
		o.readBuf, o.rcvBuf = idleReadBuf, stalledRcvBuf
	case i >= lr.cfg.clients:
		o.readBuf = idleReadBuf
	}
	lc, err := dial(ctx, o)
	if err != nil {
		return nil, err
	}
	if lr.charMode(i) {
		// DO ECHO, DO SGA, WILL TTYPE, TTYPE IS xterm: a Telnet client in
		// character mode, as inetutils after "mode character".
		if err := lc.write(charModeRequest); err != nil {
			lc.conn.Close()
			return nil, err
		}
	}
	if err := lr.proto.register(lc, lr.nicks[i]); err != nil {
		lc.conn.Close()
		return nil, err
	}
	return lc, nil
}

// readLoop checks every load line that rc receives until the run stops it.
func (lr *loadRun) readLoop(rc *receiver) {
	defer lr.readersExited.Done()
	defer rc.exited.Store(true)
	for {
		line, err := rc.lc.readLine()
		if err != nil {
			if !lr.stopping.Load() && !isTimeout(err) { // a timeout is the run deadline, not a drop
				rc.err = err
			}
			return
		}
		if pong := lr.checkLine(rc, line); pong != nil {
			lr.replyFromReader(rc, pong)
		}
	}
}

// replyFromReader writes a PONG from rc's reading goroutine, best effort. A
// sender's connection is also written by its sending goroutine, which may
// block while the server is busy writing to this reader: the PONG is then
// written from a goroutine of its own so that reading goes on.
func (lr *loadRun) replyFromReader(rc *receiver, pong []byte) {
	if rc.index >= lr.cfg.senders {
		rc.lc.write(pong)
		return
	}
	go rc.lc.write(append([]byte(nil), pong...))
}

// checkLine checks one line that rc received (without its line end, Telnet
// commands removed) and records it when it is a load line of this run. When
// the line is a keep-alive request of the server, it returns the reply to
// write (valid until the next call), else nil.
func (lr *loadRun) checkLine(rc *receiver, line []byte) (pong []byte) {
	if lr.charMode(rc.index) {
		line = plainText(line)
	}
	nick, text, ok := lr.proto.parse(&rc.ps, line)
	if !ok {
		if reply, isPing := lr.proto.appendPong(rc.pong[:0], line); isPing {
			rc.pong = reply
			return reply
		}
		return nil
	}
	gotRun, p, err := parsePayload(text)
	if err != nil || string(gotRun) != lr.cfg.run {
		return nil
	}
	now := time.Now().UnixNano()
	if p.Sender >= lr.cfg.senders || p.Sender == rc.index || string(nick) != lr.nicks[p.Sender] {
		if rc.bogus++; rc.bogus == 1 {
			lr.errs.add(fmt.Sprintf("client %d", rc.index), fmt.Errorf("bogus line %.200q", line))
		}
		return nil
	}
	switch rc.trackers[p.Sender].observe(p.Seq) {
	case seqDuplicate:
		rc.dups++
		return nil
	case seqReordered:
		rc.reordered++
	}
	lat := time.Duration(now - p.SentNano)
	lr.hist.record(lat)
	if len(lr.cfg.addrs) > 1 {
		if lr.cfg.serverOf(p.Sender) == lr.cfg.serverOf(rc.index) {
			lr.histSame.record(lat)
		} else {
			lr.histCross.record(lat)
		}
	}
	rc.lastNano = now
	rc.unique.Store(rc.unique.Load() + 1)
	return nil
}

// drainIdle discards everything an idle client receives except the
// server's keep-alive requests, which it answers.
func (lr *loadRun) drainIdle(lc *lineConn) {
	defer lr.readersExited.Done()
	var pong []byte
	partial := false // the previous read ended inside a line
	for {
		line, err := lc.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if !lr.stopping.Load() && !isTimeout(err) {
				lr.idleDrops.Add(1)
				lr.errs.add("idle client", err)
			}
			return
		}
		if err == nil && !partial {
			var isPing bool
			if pong, isPing = lr.proto.appendPong(pong[:0], bytes.TrimRight(line, "\r\n")); isPing {
				lc.write(pong) // best effort, like the quit line
			}
		}
		partial = err != nil
	}
}

// sendAll runs every connected sender until it has sent cfg.lines lines or
// until is reached, stores the counts in sentBy and returns the number of
// senders that failed.
func (lr *loadRun) sendAll(start, until time.Time, sentBy []int64) int64 {
	var wg sync.WaitGroup
	var failed atomic.Int64
	for s := range lr.cfg.senders {
		lc := lr.conns[s]
		if lc == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := lr.sendLines(s, lc, start, until)
			sentBy[s] = n
			if err != nil {
				failed.Add(1)
				lr.errs.add(fmt.Sprintf("sender %d", s), err)
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}

// sendLines sends the load lines of sender s and returns how many it sent.
func (lr *loadRun) sendLines(s int, lc *lineConn, start, until time.Time) (int64, error) {
	cfg := lr.cfg
	var interval time.Duration
	if cfg.rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.rate)
	}
	// Lines are written in batches of about sendBatch bytes (one per line
	// with -rate), always whole lines, so that a PONG from the reading
	// goroutine cannot split one.
	const sendBatch = 8192
	batch := make([]byte, 0, sendBatch+cfg.size+256)
	buf := make([]byte, 0, cfg.size+64)
	nick := lr.nicks[s]
	var sent, batched int64 // lines written, lines in batch
	for seq := range cfg.lines {
		if lr.stopping.Load() {
			break
		}
		if interval > 0 {
			due := start.Add(time.Duration(seq) * interval)
			if due.After(until) {
				break
			}
			sleepUntil(due)
		} else if time.Now().After(until) {
			break
		}
		buf = appendPayload(buf[:0], cfg.run, payload{Sender: s, Seq: seq, SentNano: time.Now().UnixNano()}, cfg.size)
		batch = lr.proto.appendChat(batch, nick, buf)
		batched++
		if interval > 0 || len(batch) >= sendBatch {
			if err := lc.write(batch); err != nil {
				return sent, fmt.Errorf("send line %d: %w", seq, err)
			}
			sent += batched
			batch, batched = batch[:0], 0
		}
	}
	if len(batch) > 0 {
		if err := lc.write(batch); err != nil {
			return sent, fmt.Errorf("flush: %w", err)
		}
		sent += batched
	}
	return sent, nil
}

// expectedPerReceiver returns how many load lines each checked client must get.
func (lr *loadRun) expectedPerReceiver(sentBy []int64) []int64 {
	var total int64
	for _, n := range sentBy {
		total += n
	}
	expected := make([]int64, lr.cfg.clients)
	for i := range expected {
		expected[i] = total
		if i < len(sentBy) {
			expected[i] -= sentBy[i]
		}
	}
	return expected
}

// waitReaders waits until every live checked client has all expected lines
// or until the deadline, and reports whether they all completed.
func (lr *loadRun) waitReaders(expected []int64, until time.Time) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		complete := true
		for i, rc := range lr.receivers {
			if rc != nil && !rc.exited.Load() && rc.unique.Load() < expected[i] {
				complete = false
				break
			}
		}
		if complete {
			return true
		}
		if !time.Now().Before(until) {
			return false
		}
		<-tick.C
	}
}

// checkStalled waits cfg.stallWait, then drains each stalled client and
// counts those the server had closed (EOF or reset rather than a timeout).
func (lr *loadRun) checkStalled() (cut int64, drained int64) {
	cfg := lr.cfg
	sleepUntil(earliest(time.Now().Add(cfg.stallWait), lr.deadline))
	until := earliest(time.Now().Add(3*time.Second), lr.deadline)
	var wg sync.WaitGroup
	var cutCount, bytes atomic.Int64
	for i := cfg.clients + cfg.idle; i < cfg.totalClients(); i++ {
		lc := lr.conns[i]
		if lc == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := lc.drainUntilClosed(until)
			bytes.Add(n)
			if !isTimeout(err) {
				cutCount.Add(1)
			}
		}()
	}
	wg.Wait()
	return cutCount.Load(), bytes.Load()
}

// stopAndQuit stops the readers, then sends the protocol's quit line (telchat
// /quit, IRC QUIT) on every client and closes it.
func (lr *loadRun) stopAndQuit() {
	lr.stopping.Store(true)
	now := time.Now()
	for _, lc := range lr.conns {
		if lc != nil {
			lc.conn.SetReadDeadline(now)
		}
	}
	if lr.polls != nil {
		lr.polls.stop()
	}
	lr.readersExited.Wait()
	lr.pollersExited.Wait()
	quitBy := time.Now().Add(2 * time.Second) // one bound for all, however many clients
	quit := lr.proto.quitLine()
	for _, lc := range lr.conns {
		if lc == nil || lc.quitPolled(quit) {
			continue
		}
		if len(quit) > 0 {
			lc.conn.SetWriteDeadline(quitBy)
			lc.write(quit) // best effort: the server may have cut it
		}
		lc.conn.Close()
	}
}

// collect sums the per-receiver checks into res. Readers must have exited.
func (lr *loadRun) collect(res *result, expected []int64, sendStart time.Time) {
	var last int64
	for i, rc := range lr.receivers {
		if rc == nil {
			continue
		}
		res.expected += expected[i]
		res.deliveries += rc.unique.Load()
		var lost int64
		res.dups += rc.dups
		res.reordered += rc.reordered
		res.bogus += rc.bogus
		last = max(last, rc.lastNano)
		if rc.err != nil {
			res.readerDrops++
			lr.errs.add(fmt.Sprintf("reader %d", i), rc.err)
		}
		for s := range lr.cfg.senders {
			if s == i {
				continue
			}
			t := &rc.trackers[s]
			lost += int64(t.lost(int(res.sentBy[s])))
			if int64(t.maxSeq) >= res.sentBy[s] {
				res.bogus++ // a sequence number that was never sent
				lr.errs.add(fmt.Sprintf("client %d", i), fmt.Errorf("sender %d: got seq %d, sent %d lines", s, t.maxSeq, res.sentBy[s]))
			}
		}
		res.lost += lost
		res.spreadStats(rc, expected[i], lost)
	}
	res.perServerSent()
	if last > 0 {
		res.deliveryTime = time.Duration(last - sendStart.UnixNano())
	}
}

// sampleMemory reads the server's memory when -pid is set: the sum over
// the servers when there are several.
func (lr *loadRun) sampleMemory() (memorySample, error) {
	if len(lr.cfg.pids) == 0 {
		return memorySample{}, errNoPID
	}
	var sum memorySample
	for _, pid := range lr.cfg.pids {
		m, err := readMemory(pid)
		if err != nil {
			return memorySample{}, err
		}
		sum.RSSKiB += m.RSSKiB
		sum.PeakKiB += m.PeakKiB
	}
	return sum, nil
}

// sampleSyscw reads the server's write syscall counter when -pid is set
// (summed over the servers).
func (lr *loadRun) sampleSyscw() (int64, error) {
	if len(lr.cfg.pids) == 0 {
		return 0, errNoPID
	}
	var sum int64
	for _, pid := range lr.cfg.pids {
		n, err := readWriteSyscalls(pid)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// cpuSample is the CPU time used so far by the servers (-pid, summed) and
// by the NATS server (-nats-pid).
type cpuSample struct {
	servers, nats         time.Duration
	haveServers, haveNATS bool
}

// sub returns the CPU time used from before to s.
func (s cpuSample) sub(before cpuSample) cpuSample {
	return cpuSample{servers: s.servers - before.servers, nats: s.nats - before.nats,
		haveServers: s.haveServers && before.haveServers, haveNATS: s.haveNATS && before.haveNATS}
}

// sampleCPU reads the CPU time of the -pid processes and of -nats-pid.
func (lr *loadRun) sampleCPU() cpuSample {
	var s cpuSample
	s.haveServers = len(lr.cfg.pids) > 0
	for _, pid := range lr.cfg.pids {
		d, err := readCPU(pid)
		if err != nil {
			s.haveServers = false
			break
		}
		s.servers += d
	}
	if lr.cfg.natsPID > 0 {
		d, err := readCPU(lr.cfg.natsPID)
		s.nats, s.haveNATS = d, err == nil
	}
	return s
}

// errNoPID is returned by samplers when no server pid was given.
var errNoPID = errors.New("no -pid given")

// startProgress prints a progress line about every second until the
// returned function is called.
func (lr *loadRun) startProgress(w io.Writer, res *result) (stop func()) {
	if lr.cfg.quiet {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var prev int64
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var delivered int64
			for _, rc := range lr.receivers {
				if rc != nil {
					delivered += rc.unique.Load()
				}
			}
			mem := ""
			if m, err := lr.sampleMemory(); err == nil {
				mem = fmt.Sprintf(" server_rss=%.1fMiB", float64(m.RSSKiB)/1024)
			}
			fmt.Fprintf(w, "[loadgen %5.1fs] phase=%s named=%d/%d connect_errors=%d delivered=%d (+%d/s)%s\n",
				time.Since(start).Seconds(), phaseNames[lr.phase.Load()], lr.named.Load(), lr.cfg.totalClients(),
				lr.connErrs.Load(), delivered, delivered-prev, mem)
			prev = delivered
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// sleepUntil sleeps until t (returns at once if t has passed).
func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit and reports
// when that is still below need.
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("setrlimit: %w", err)
		}
	}
	if lim.Cur < uint64(need) {
		return fmt.Errorf("open file limit %d is below the %d this run needs (raise ulimit -Hn)", lim.Cur, need)
	}
	return nil
}

// earliest returns the earlier of two times.
func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// charModeRequest is what a character-mode client sends first: IAC DO
// ECHO, IAC DO SGA, IAC WILL TTYPE, IAC SB TTYPE IS "xterm" IAC SE.
var charModeRequest = []byte{255, 253, 1, 255, 253, 3, 255, 251, 24, 255, 250, 24, 0, 'x', 't', 'e', 'r', 'm', 255, 240}

// charMode reports whether client i uses character mode (-char-mode).
func (lr *loadRun) charMode(i int) bool {
	return lr.cfg.charMode > 0 && i < lr.cfg.clients && i >= lr.cfg.clients-lr.cfg.charMode
}

// plainText turns a line as a character-mode client receives it into the
// plain line: what follows the last carriage return (the erase of the
// input line, or a redraw), without escape sequences, a leading [HH:MM]
// timestamp or a bell. It works in place.
func plainText(line []byte) []byte {
	if i := bytes.LastIndexByte(line, '\r'); i >= 0 {
		line = line[i+1:]
	}
	out := line[:0]
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == 0x1b && i+1 < len(line) && line[i+1] == '[':
			i += 2
			for i < len(line) && (line[i] < 0x40 || line[i] > 0x7e) {
				i++
			}
		case c == 0 || c == '\a':
		default:
			out = append(out, c)
		}
	}
	if len(out) >= 8 && out[0] == '[' && out[3] == ':' && out[6] == ']' && out[7] == ' ' {
		out = out[8:]
	}
	return out
}
