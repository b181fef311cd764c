package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A bucket watch hands on every entry of a key-value bucket (the bans, the
// admin state, the accounts): first what the bucket holds, then every
// change, in the bucket's order, until the link closes.
//
// nats.go's watch is an ordered consumer that notices a lost consumer
// only from missing heartbeats, checked every 10 s: after the link comes
// back from a cut of more than a few seconds (the NATS server drops a
// watch's consumer 5 s after its client went away), or from a restart of
// the NATS server, changes made meanwhile would arrive 10 to 20 s late.
// So after each reconnect the watch is started again from the revision
// after the last one it handed on: nothing is skipped and nothing handed
// on twice.

// rewatchPoll is how often a watch looks whether the link reconnected.
const rewatchPoll = 500 * time.Millisecond

// entryFunc handles one entry of a watched bucket; initial says that the
// entry was in the bucket when the watch began.
type entryFunc func(e jetstream.KeyValueEntry, initial bool)

// bucketWatch is the watch of one bucket.
type bucketWatch struct {
	l      *Link
	kv     jetstream.KeyValue
	bucket string
	handle entryFunc
	loaded chan struct{} // closed once handle has had what the bucket held at start
}

// watchBucket starts watching every key of kv (the bucket named bucket),
// calling handle, on the watch's goroutine, for each entry until the link
// closes. The returned channel is closed once handle has had every entry
// the bucket held when the watch began.
func (l *Link) watchBucket(kv jetstream.KeyValue, bucket string, handle entryFunc) (<-chan struct{}, error) {
	if kv == nil {
		return nil, fmt.Errorf("%w: %s", errNoBucket, bucket)
	}
	b := &bucketWatch{l: l, kv: kv, bucket: bucket, handle: handle, loaded: make(chan struct{})}
	w, cancel, err := b.start(0)
	if err != nil {
		return nil, err
	}
	l.wg.Add(1)
	go b.run(w, cancel)
	return b.loaded, nil
}

// start starts a watch of the changes after revision last (0: of
// everything). The watch lives until cancel.
func (b *bucketWatch) start(last uint64) (jetstream.KeyWatcher, context.CancelFunc, error) {
	ctx, cancel := context.WithCancel(context.Background())
	var opts []jetstream.WatchOpt
	if last > 0 {
		opts = append(opts, jetstream.ResumeFromRevision(last+1))
	}
	w, err := b.kv.WatchAll(ctx, opts...)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("cluster: watching %s: %w", b.bucket, err)
	}
	return w, cancel, nil
}

// run hands on the entries of w, and of the watches that replace it after
// each reconnect, until the link closes.
func (b *bucketWatch) run(w jetstream.KeyWatcher, cancel context.CancelFunc) {
	l := b.l
	defer l.wg.Done()
	end := func() {
		if l.nc.IsConnected() {
			// Stopping asks the server to remove the watch's consumer:
			// with the link down it would wait for its timeout.
			_ = w.Stop()
		}
		cancel()
	}
	defer func() { end() }()
	initial := true
	var last uint64 // the revision of the last entry handed on
	reconnects := l.nc.Stats().Reconnects
	t := time.NewTicker(rewatchPoll)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			n := l.nc.Stats().Reconnects
			if n == reconnects || !l.nc.IsConnected() {
				continue
			}
			nw, ncancel, err := b.start(last)
			if err != nil {
				l.log.Warn().Err(err).Str("bucket", b.bucket).Msg("watching the bucket again after a reconnect failed; retrying")
				continue
			}
			reconnects = n
			end()
			w, cancel = nw, ncancel
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				if initial {
					initial = false // the end of what was there at start
					close(b.loaded)
				}
				continue
			}
			if e.Revision() <= last {
				continue // handed on already (by the watch this one replaced)
			}
			last = e.Revision()
			b.handle(e, initial)
		}
	}
}
