//go:build !linux

package main

import "errors"

// run is only implemented on Linux (raw descriptors and epoll).
func run(config) (*result, error) {
	return nil, errors.New("floor needs Linux")
}
