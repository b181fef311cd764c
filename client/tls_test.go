package client_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"telchat/client"
	"telchat/internal/servertest"
)

// testCert makes a self-signed certificate for 127.0.0.1 and localhost.
func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "telchat test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// startTLS serves s's chat over TLS on a second loopback listener and
// returns its address and the certificate's pool.
func startTLS(t *testing.T, s *servertest.Server) (string, *x509.CertPool) {
	t.Helper()
	cert := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- s.Server.ServeTLS(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}()
	t.Cleanup(func() {
		s.Shutdown()
		if err := <-served; !errors.Is(err, client.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return ln.Addr().String(), pool
}

// tlsClient is a Go TLS chat client.
type tlsClient struct {
	t    *testing.T
	conn *tls.Conn
	r    *bufio.Reader
}

func dialTLS(t *testing.T, addr string, pool *x509.CertPool) *tlsClient {
	t.Helper()
	d := &net.Dialer{Timeout: servertest.Timeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(servertest.Timeout))
	return &tlsClient{t: t, conn: c, r: bufio.NewReader(c)}
}

func (c *tlsClient) send(line string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
}

// expect reads lines until one contains want.
func (c *tlsClient) expect(want string) string {
	c.t.Helper()
	var seen []string
	for {
		l, err := c.r.ReadString('\n')
		if strings.Contains(l, want) {
			return l
		}
		seen = append(seen, l)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v; got %q", want, err, seen)
		}
	}
}

func TestTLSChatWithGoClient(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	addr, pool := startTLS(t, s)
	bob := s.Login(t, "bob")

	ann := dialTLS(t, addr, pool)
	if st := ann.conn.ConnectionState(); st.Version < tls.VersionTLS12 {
		t.Errorf("negotiated TLS version %x, want at least 1.2", st.Version)
	}
	ann.expect("Welcome to telchat!")
	ann.send("ann")
	ann.expect("*** Welcome, ann!")
	bob.Expect("ann joined #lobby")
	ann.send("hello over TLS")
	bob.Expect("<ann> hello over TLS")
	bob.Send("hello in the clear")
	ann.expect("<bob> hello in the clear")

	// The goodbye arrives whole and the end is a clean close_notify.
	ann.send("/quit bye")
	ann.expect("*** Goodbye, ann!")
	rest, err := io.ReadAll(ann.r)
	if err != nil {
		t.Fatalf("after the goodbye: %v (read %q); want a clean end", err, rest)
	}
	bob.Expect("ann left #lobby (quit: bye)")
	servertest.WaitFor(t, "the TLS session to close", func() bool { return s.Server.Active() == 1 })
	if got := s.Server.Totals(); got.AcceptedTLS != 1 || got.SessionsTLS != 0 || got.Sessions != 1 {
		t.Errorf("totals %+v", got)
	}
}

func TestTLSRealClients(t *testing.T) {
	tests := []struct {
		name string
		args func(addr string) []string
	}{
		{"openssl", func(addr string) []string { return []string{"openssl", "s_client", "-quiet", "-connect", addr} }},
		{"socat", func(addr string) []string { return []string{"socat", "-", "OPENSSL:" + addr + ",verify=0"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args("127.0.0.1:0")
			servertest.RequireBinary(t, args[0])
			s := servertest.Start(t, servertest.Config{})
			addr, _ := startTLS(t, s)
			bob := s.Login(t, "bob")
			args = tc.args(addr)
			p := servertest.StartProcess(t, nil, args[0], args[1:]...)
			at := p.Out.WaitFor(t, 0, "Choose a nickname:")
			if _, err := io.WriteString(p.Stdin, "carol\n"); err != nil {
				t.Fatal(err)
			}
			at = p.Out.WaitFor(t, at, "*** Welcome, carol!")
			bob.Expect("carol joined #lobby")
			if _, err := io.WriteString(p.Stdin, "hi from "+tc.name+"\n"); err != nil {
				t.Fatal(err)
			}
			bob.Expect("<carol> hi from " + tc.name)
			bob.Send("welcome, carol")
			at = p.Out.WaitFor(t, at, "<bob> welcome, carol")
			if _, err := io.WriteString(p.Stdin, "/quit\n"); err != nil {
				t.Fatal(err)
			}
			p.Out.WaitFor(t, at, "*** Goodbye, carol!")
			// The client sees the end and exits, without waiting for its
			// standard input to end.
			if err := p.Wait(t); err != nil {
				t.Fatalf("%s: %v\n%s", tc.name, err, p.Out)
			}
			bob.Expect("carol left #lobby (quit)")
		})
	}
}

func TestTLSHandshakeTimeoutCountsAgainstConnectRate(t *testing.T) {
	s := servertest.Start(t, servertest.Config{Client: client.Config{
		HandshakeTimeout: 300 * time.Millisecond, ConnectRate: 0.01, ConnectBurst: 2, Linger: 300 * time.Millisecond,
	}})
	addr, pool := startTLS(t, s)
	for i := range 2 {
		// A client that connects and never starts the handshake.
		c, err := net.DialTimeout("tcp", addr, servertest.Timeout)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(servertest.Timeout))
		start := time.Now()
		if n, err := c.Read(make([]byte, 1)); err == nil || n > 0 {
			t.Fatalf("silent client %d: read %d bytes, %v; want the connection closed", i, n, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("silent client %d dropped after %v, want about 300ms", i, d)
		}
		_ = c.Close()
	}
	servertest.WaitFor(t, "the failed handshakes to be counted", func() bool { return s.Server.Totals().HandshakesFailed >= 2 })
	// The two silent connections used the burst: a real client is refused,
	// and told why over TLS.
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: servertest.Timeout}, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("the refusal comes over TLS: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(servertest.Timeout))
	l, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.Contains(l, "! Connection refused: too many connections from your address, slow down") {
		t.Fatalf("third connection: %q", l)
	}
	if got := s.Server.Totals().Refused; got[1] != 1 {
		t.Errorf("refused by rate: %v", got)
	}
}

func TestTLSSlowConsumerIsCut(t *testing.T) {
	tests := []struct {
		name     string
		cfg      client.Config
		lineSize int
	}{
		// Its queue outgrows the cap while the proxy's writes are blocked.
		{"queue cap", client.Config{MaxQueueBytes: 1 << 20, MaxLine: 16 << 10, WriteTimeout: 5 * time.Second}, 16000},
		// No cap in reach: the proxy's write to the client stalls for the
		// write timeout.
		{"stalled write", client.Config{MaxQueueBytes: 1 << 30, MaxLine: 16 << 10, WriteTimeout: time.Second}, 16000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: tc.cfg})
			addr, pool := startTLS(t, s)
			stuck := dialTLS(t, addr, pool)
			stuck.expect("Welcome to telchat!")
			stuck.send("stuck")
			stuck.expect("*** Welcome, stuck!")
			// fine reads everything over TLS: it must not be cut.
			fine := dialTLS(t, addr, pool)
			fine.expect("Welcome to telchat!")
			fine.send("fine")
			fine.expect("*** Welcome, fine!")
			_ = fine.conn.SetDeadline(time.Time{})
			go func() { _, _ = io.Copy(io.Discard, fine.r) }()
			alice := s.Login(t, "alice")
			bob := s.Login(t, "bob")
			// stuck reads no more; alice talks until it is cut as slow.
			line := strings.Repeat("x", tc.lineSize)
			deadline := time.Now().Add(servertest.Timeout)
			for i := 0; ; i++ {
				alice.Send(line)
				for {
					l := bob.Line()
					if l == "*** stuck left #lobby (slow)" {
						bob.Send("/who")
						if w := bob.Expect(" in #lobby"); !strings.Contains(w, "fine") {
							t.Errorf("the reading TLS client was cut too: %q", w)
						}
						return
					}
					if strings.HasPrefix(l, "*** fine left") {
						t.Fatalf("the reading TLS client was cut: %q", l)
					}
					if l == "<alice> "+line {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("stuck was not cut as slow after %d lines", i)
				}
			}
		})
	}
}
