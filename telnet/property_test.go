package telnet_test

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"telchat/telnet"
)

// randomSplit cuts data into chunks at random points, including empty chunks.
func randomSplit(rng *rand.Rand, data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := rng.IntN(min(len(data), 8) + 1) // 0..8 bytes, sometimes an empty chunk
		if rng.IntN(10) == 0 {
			n = rng.IntN(len(data) + 1)
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// checkSplits decodes data whole, split at random points and byte by byte, and fails if the
// events differ (apart from reply merging) or break an invariant.
func checkSplits(t *testing.T, cfg telnet.Config, data []byte, rng *rand.Rand) {
	t.Helper()
	whole := decode(cfg, [][]byte{data}, true)
	checkInvariants(t, cfg, whole)
	want := normalize(whole)
	for name, in := range map[string][][]byte{
		"random split": randomSplit(rng, data),
		"byte by byte": bytewise([][]byte{data}),
	} {
		got := decode(cfg, in, true)
		checkInvariants(t, cfg, got)
		if g := normalize(got); !reflect.DeepEqual(g, want) {
			t.Fatalf("%s of % x differs:\ngot\n%swant (one chunk)\n%s", name, data, format(g), format(want))
		}
	}
}

// configFromSeed picks small limits half of the time so the caps are exercised.
// A quarter of them agree to ECHO, so that character mode is decoded too.
func configFromSeed(seed uint64) telnet.Config {
	echo := seed>>20&3 == 0
	if seed&1 == 0 {
		return telnet.Config{Echo: echo}
	}
	return telnet.Config{MaxLine: int(seed>>1%40) + 1, MaxSub: int(seed>>8%16) + 1, Echo: echo}
}

// randomStream builds Telnet-looking input: text, UTF-8 (valid and not), line ends, editing
// keys, commands, negotiation and subnegotiations (some unterminated or malformed).
func randomStream(rng *rand.Rand) []byte {
	opts := []byte{telnet.OptBinary, telnet.OptEcho, telnet.OptSGA, telnet.OptTimingMark,
		telnet.OptTType, telnet.OptNAWS, telnet.OptLinemode, telnet.OptNewEnviron, 0x99, 0xff}
	verbs := []byte{telnet.WILL, telnet.WONT, telnet.DO, telnet.DONT}
	var out []byte
	for range rng.IntN(40) {
		switch rng.IntN(14) {
		case 0, 1:
			for range rng.IntN(20) {
				out = append(out, byte(0x20+rng.IntN(0x5f)))
			}
		case 2:
			out = utf8.AppendRune(out, rune(rng.IntN(0x10ffff)))
		case 3:
			out = append(out, byte(0x80+rng.IntN(0x7f)))
		case 4:
			ends := []string{"\r", "\n", "\r\n", "\r\x00", "\x00"}
			out = append(out, ends[rng.IntN(len(ends))]...)
		case 5:
			keys := []byte{0x03, 0x04, 0x08, 0x7f, 0x15, 0x1b, 0x09, 0x01}
			out = append(out, keys[rng.IntN(len(keys))])
		case 6:
			out = append(out, telnet.IAC, byte(0xec+rng.IntN(20))) // commands, IAC IAC
		case 7:
			out = append(out, telnet.IAC, byte(rng.IntN(256)))
		case 8, 9:
			out = append(out, telnet.IAC, verbs[rng.IntN(len(verbs))], opts[rng.IntN(len(opts))])
		case 10, 11:
			out = append(out, telnet.IAC, telnet.SB, opts[rng.IntN(len(opts))])
			if rng.IntN(2) == 0 {
				out = append(out, byte(rng.IntN(2))) // IS or SEND
			}
			for range rng.IntN(12) {
				switch rng.IntN(6) {
				case 0:
					out = append(out, telnet.IAC, telnet.IAC)
				case 1:
					out = append(out, '\r', '\n')
				default:
					out = append(out, byte(rng.IntN(256)))
				}
			}
			if rng.IntN(5) != 0 {
				out = append(out, telnet.IAC, telnet.SE)
			}
		case 12:
			out = append(out, byte(rng.IntN(256)))
		case 13:
			out = append(out, telnet.IAC)
		}
	}
	return out
}

// TestSplitInvariance is the property test: for random streams, feeding in one chunk, in
// random chunks or byte by byte gives the same events, and every invariant holds.
func TestSplitInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		seed := rng.Uint64()
		data := randomStream(rng)
		cfg := configFromSeed(seed)
		checkSplits(t, cfg, data, rand.New(rand.NewPCG(seed, uint64(i))))
	}
}

func FuzzDecoder(f *testing.F) {
	seeds := [][]byte{
		[]byte("hello world\r\n"),
		hx("ff f4 ff fd 06"),
		hx(plinkBurst),
		hx(greetReply),
		bs(hx("ff fb 1f ff fa 1f 00 ff ff 00 ff ff ff f0"), "ab\r", hx("ff f1"), "\ncd"),
		bs(hx("ff fb 18 ff fa 18 00"), "xterm", hx("ff f0 c3"), hx("a9 e2 82 ac 0d 00")),
		bs("abc\x7f\x08\x15\x03\x04x\r\x00y\rz\n"),
		bs(hx("ff fa 18 00"), "unterminated", hx("ff")),
		bs("a", hx("ff ff"), "b", hx("ff f6 ff f7 ff f8 ff 41")),
		bs(hx("ff fa 18"), strings.Repeat("A", 1000), "\r\nsbnick\r\n"), // runaway SB
	}
	for i, s := range seeds {
		f.Add(s, uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		checkSplits(t, configFromSeed(seed), data, rand.New(rand.NewPCG(seed, 0)))
	})
}
