package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert makes a self-signed certificate for 127.0.0.1 with the given
// serial number and writes it and its key as PEM files.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "telchat test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})))
}

// dialTLSChat connects over TLS without checking the (self-signed)
// certificate and returns the connection and the serial number of the
// certificate the server presented.
func dialTLSChat(t *testing.T, addr string) (*tls.Conn, *bufio.Reader, int64) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: waitLimit}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	if v := c.ConnectionState().Version; v < tls.VersionTLS12 {
		t.Errorf("TLS version %x", v)
	}
	return c, bufio.NewReader(c), c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSOnlyServerReloadsItsCertificate runs a TLS-only server (-addr ""),
// replaces its certificate on disk and reloads with SIGHUP: the user
// already connected stays, new connections get the new certificate, and a
// broken certificate is refused by the reload, which keeps the old one.
func TestTLSOnlyServerReloadsItsCertificate(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	s := startServer(t, bin, nil, "-addr", "", "-tls-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile,
		"-console", "-data-dir", filepath.Join(dir, "data"))
	if s.addr != "" || s.tlsAddr == "" {
		t.Fatalf("plain %q, TLS %q: want TLS only", s.addr, s.tlsAddr)
	}

	ann, ar, serial := dialTLSChat(t, s.tlsAddr)
	if serial != 1 {
		t.Fatalf("certificate serial %d, want 1", serial)
	}
	if _, err := ann.Write([]byte("ann\r\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ar, "*** Welcome, ann!")

	writeCert(t, certFile, keyFile, 2)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.expectStdout(t, "*** Read the TLS certificate "+certFile)
	bob, br, serial := dialTLSChat(t, s.tlsAddr)
	if serial != 2 {
		t.Fatalf("after the reload: certificate serial %d, want 2", serial)
	}
	if _, err := bob.Write([]byte("bob\r\nhi ann\r\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, br, "*** Welcome, bob!")
	readUntil(t, ar, "<bob> hi ann") // ann's connection survived the reload

	writeFile(t, keyFile, "not a key")
	if _, err := s.stdin.Write([]byte("rehash\n")); err != nil {
		t.Fatal(err)
	}
	s.expectStdout(t, "! Reload failed, nothing was changed: -tls-cert "+certFile+", -tls-key "+keyFile)
	_, _, serial = dialTLSChat(t, s.tlsAddr)
	if serial != 2 {
		t.Fatalf("after a failed reload: certificate serial %d, want 2 (kept)", serial)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if l := readUntil(t, ar, "shutting down"); !strings.Contains(l, "Server shutting down") {
		t.Errorf("shutdown notice %q", l)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

func TestTLSFlagErrors(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-tls-addr", "127.0.0.1:0"}, "-tls-addr 127.0.0.1:0: needs -tls-cert and -tls-key"},
		{[]string{"-tls-cert", certFile}, "-tls-cert " + certFile + ": and -tls-key go together"},
		{[]string{"-tls-cert", certFile, "-tls-key", keyFile}, "-tls-cert is set but -tls-addr is empty"},
		{[]string{"-addr", "", "-tls-addr", ""}, "-addr and -tls-addr are both empty"},
		{[]string{"-tls-addr", "127.0.0.1:0", "-tls-cert", keyFile, "-tls-key", certFile}, "-tls-cert " + keyFile + ", -tls-key " + certFile + ": "},
	}
	for _, tc := range tests {
		out, err := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir()}, tc.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%q: %v, %q; want an error with %q", tc.args, err, out, tc.want)
		}
	}
}

// TestSocketActivatedTLS: systemd passes a socket named tls (as
// telchat-tls.socket does) and the chat is served over TLS on it.
func TestSocketActivatedTLS(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 7)
	p, addr := startActivated(t, bin, "tls", nil, "-tls-cert", certFile, "-tls-key", keyFile)
	c, r, serial := dialTLSChat(t, addr) // the first connection starts the server
	if serial != 7 {
		t.Errorf("certificate serial %d, want 7", serial)
	}
	if _, err := c.Write([]byte("dora\r\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, r, "*** Welcome, dora!")
	p.Out.WaitFor(t, 0, `"message":"tls listening"`)
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	readUntil(t, r, "Server shutting down")
	if err := p.Wait(t); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.Out)
	}
}
