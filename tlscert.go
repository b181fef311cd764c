package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// certStore holds the TLS certificate the server presents; a reload
// replaces it, and handshakes from then on get the new one (connections
// already made keep theirs).
type certStore struct {
	cert atomic.Pointer[tls.Certificate]
}

// loadCert reads and checks a certificate and key pair.
func loadCert(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert %s, -tls-key %s: %w", certFile, keyFile, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("-tls-cert %s: %w", certFile, err)
	}
	cert.Leaf = leaf
	return &cert, nil
}

// expiry describes when c's certificate expires, for the log.
func expiry(c *tls.Certificate) string {
	if c.Leaf == nil {
		return "unknown"
	}
	left := time.Until(c.Leaf.NotAfter).Round(time.Hour)
	return fmt.Sprintf("%s (in %s)", c.Leaf.NotAfter.UTC().Format(time.RFC3339), left)
}

// config returns the server's TLS configuration: crypto/tls's defaults
// (TLS 1.2 at least, its cipher suites), with the certificate taken from
// the store at each handshake.
func (s *certStore) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c := s.cert.Load()
			if c == nil {
				return nil, errors.New("no certificate loaded")
			}
			return c, nil
		},
	}
}
