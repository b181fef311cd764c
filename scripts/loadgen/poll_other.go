//go:build !linux

package main

import "errors"

// pollGroup is only implemented on Linux; elsewhere every receiver has its
// own reading goroutine.
type pollGroup struct{}

// errNotPolled says that a receiver stays on its own reading goroutine.
var errNotPolled = errors.New("not read by a poller")

// newPollGroup reports that polling is not available here.
func newPollGroup(*loadRun, int) (*pollGroup, error) {
	return nil, errors.New("-recv poll needs Linux")
}

// add never takes a receiver.
func (*pollGroup) add(*receiver) error { return errNotPolled }

// stop does nothing.
func (*pollGroup) stop() {}

// defaultRecv is the default of -recv.
const defaultRecv = recvGoroutine

// quitPolled reports that no connection was handed to a poller.
func (*lineConn) quitPolled([]byte) bool { return false }
