package eventloop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Attack tests: each performs an HTTP/2 attack against the real server and checks the
// defence that answers it, that the server's memory stays flat, and that other
// connections keep being served.

// attackApp serves /wait until the stream goes away, /read echoes the body after
// reading it all, /flood streams forever, and hello for everything else.
var attackApp = asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch scope.(*asgi.HTTPScope).Path {
	case "/wait":
		<-ctx.Done()
		return nil
	case "/read":
		body, err := readBody(ctx, receive)
		if err != nil {
			return err
		}
		return respond(ctx, send, 200, string(body))
	case "/flood":
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		chunk := make([]byte, 1<<20)
		for send(ctx, &asgi.HTTPResponseBody{Body: chunk, MoreBody: true}) == nil {
		}
		return nil
	}
	return respond(ctx, send, 200, "Hello, World!")
})

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// underAttack runs attack against a fresh server, then checks memory and service.
func underAttack(t *testing.T, cfg Config, attack func(t *testing.T, ts *testServer)) {
	ts := startServer(t, cfg, attackApp)
	before := heapInUse()
	attack(t, ts)
	grew := int64(heapInUse()) - int64(before)
	t.Logf("heap in use: %+.1f MiB across the attack", float64(grew)/(1<<20))
	if grew > 32<<20 {
		t.Errorf("heap grew by %d MiB during the attack", grew>>20)
	}
	resp, err := h2cClient().Get(ts.url("/hello"))
	if err != nil {
		t.Fatalf("another connection after the attack: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "Hello, World!" || resp.ProtoMajor != 2 {
		t.Fatalf("another connection after the attack: %d %q HTTP/%d", resp.StatusCode, b, resp.ProtoMajor)
	}
}

// frames encodes frames with write into one buffer, to be sent in one go.
func frames(r *rawH2, write func(fw *http2.Framer)) []byte {
	var buf bytes.Buffer
	fw := http2.NewFramer(&buf, nil)
	fw.AllowIllegalWrites = true
	write(fw)
	return buf.Bytes()
}

// sendAsync writes b in the background: the server may close before reading it all.
func sendAsync(r *rawH2, b []byte) {
	go r.nc.Write(b)
}

// wantConnErrorOrLog accepts the GOAWAY with code and reason (its debug data), or (when
// the peer's flood made the kernel reset the connection before the GOAWAY could be read)
// the server's log of it.
func wantConnErrorOrLog(t *testing.T, ts *testServer, r *rawH2, code http2.ErrCode, reason string) {
	t.Helper()
	f := r.until(10*time.Second, func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if f != nil {
		if g := f.(*http2.GoAwayFrame); g.ErrCode != code || string(g.DebugData()) != reason {
			t.Fatalf("GOAWAY %v %q, want %v %q", g.ErrCode, g.DebugData(), code, reason)
		}
		return
	}
	testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("a GOAWAY %v or its log line (the connection closed without)", code), func() bool {
		return strings.Contains(ts.logs.String(), "connection error "+code.String()+": "+reason)
	})
}

// TestH2AttackRapidReset is CVE-2023-44487: streams opened and cancelled at once.
func TestH2AttackRapidReset(t *testing.T) {
	underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		sendAsync(r, frames(r, func(fw *http2.Framer) {
			for id := uint32(1); id < 20000; id += 2 {
				fw.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: true,
					BlockFragment: r.block(":method", "GET", ":scheme", "http", ":path", "/wait")})
				fw.WriteRSTStream(id, http2.ErrCodeCancel)
			}
		}))
		wantConnErrorOrLog(t, ts, r, http2.ErrCodeEnhanceYourCalm, "too many stream resets")
	})
}

// TestH2AttackMadeYouReset makes the server reset streams (WINDOW_UPDATE overflow) while
// their apps run: the apps count against the stream limit until they end, and the
// server-side resets spend the reset budget.
func TestH2AttackMadeYouReset(t *testing.T) {
	underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		sendAsync(r, frames(r, func(fw *http2.Framer) {
			for id := uint32(1); id < 20000; id += 2 {
				fw.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: true,
					BlockFragment: r.block(":method", "GET", ":scheme", "http", ":path", "/wait")})
				fw.WriteWindowUpdate(id, 1<<31-1)
			}
		}))
		wantConnErrorOrLog(t, ts, r, http2.ErrCodeEnhanceYourCalm, "too many stream resets")
	})
}

// TestH2AttackContinuationFlood is CVE-2024-27316: a header block that never ends.
func TestH2AttackContinuationFlood(t *testing.T) {
	underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		frag := bytes.Repeat([]byte{0x40, 0x01, 'x', 0x01, 'y'}, 3000)
		sendAsync(r, frames(r, func(fw *http2.Framer) {
			fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: r.block(":method", "GET")})
			for i := 0; i < 1000; i++ { // 15 MB of header block
				fw.WriteContinuation(1, false, frag)
			}
		}))
		wantConnErrorOrLog(t, ts, r, http2.ErrCodeEnhanceYourCalm, "header block too large")
	})
}

// TestH2AttackHPACKBomb: a small block that references a 4 KB table entry many times.
func TestH2AttackHPACKBomb(t *testing.T) {
	underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		big := strings.Repeat("b", 4000)
		r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true,
			BlockFragment: r.block(":method", "GET", ":scheme", "http", ":path", "/", "x-bomb", big)})
		if s := r.wantStatus(5*time.Second, 1); s != "200" {
			t.Fatalf("status %s", s)
		}
		fields := []string{":method", "GET", ":scheme", "http", ":path", "/"}
		for i := 0; i < 1000; i++ { // 4 MB decoded from about 1 KB
			fields = append(fields, "x-bomb", big)
		}
		block := r.block(fields...)
		r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: true, EndStream: true, BlockFragment: block})
		if s := r.wantStatus(5*time.Second, 3); s != "431" {
			t.Fatalf("status %s, want 431", s)
		}
		r.request(5, "GET", "/", true)
		if s := r.wantStatus(5*time.Second, 5); s != "200" {
			t.Fatalf("after the bomb: status %s", s)
		}
	})
}

func TestH2AttackControlFrameFloods(t *testing.T) {
	floods := map[string]func(fw *http2.Framer){
		"ping":     func(fw *http2.Framer) { fw.WritePing(false, [8]byte{1}) },
		"settings": func(fw *http2.Framer) { fw.WriteSettings() },
		"empty data": func(fw *http2.Framer) {
			fw.WriteData(1, false, nil)
		},
		"priority": func(fw *http2.Framer) { fw.WritePriority(1, http2.PriorityParam{StreamDep: 3, Weight: 1}) },
		// Header blocks without a single byte (CVE-2019-9518): the first is a malformed
		// trailer that resets stream 1, the rest are ignored but still charged.
		"empty header fragments": func(fw *http2.Framer) {
			fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1})
			fw.WriteContinuation(1, true, nil)
		},
	}
	for name, flood := range floods {
		t.Run(name, func(t *testing.T) {
			underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
				r := dialH2(t, ts.addr)
				r.request(1, "POST", "/wait", false)
				sendAsync(r, frames(r, func(fw *http2.Framer) {
					for i := 0; i < 50000; i++ {
						flood(fw)
					}
				}))
				wantConnErrorOrLog(t, ts, r, http2.ErrCodeEnhanceYourCalm, "control frame flood")
			})
		})
	}
}

// TestH2AttackZeroWindowStall: a client that never opens its window is closed after the
// stall timeout, and the app blocked in send is released.
func TestH2AttackZeroWindowStall(t *testing.T) {
	underAttack(t, Config{BodyTimeout: 500 * time.Millisecond}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		r.request(1, "GET", "/flood", true)
		start := time.Now()
		r.wantGoAway(5*time.Second, http2.ErrCodeEnhanceYourCalm)
		r.wantClosed(5 * time.Second)
		if d := time.Since(start); d < 400*time.Millisecond || d > 4*time.Second {
			t.Fatalf("closed after %v, want about the 500ms stall timeout", d)
		}
	})
}

func TestH2AttackOversizedFrame(t *testing.T) {
	underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		r.request(1, "POST", "/wait", false)
		r.fr.WriteData(1, false, make([]byte, 16385))
		r.wantGoAway(5*time.Second, http2.ErrCodeFrameSize)
		r.wantClosed(5 * time.Second)
	})
}

func TestH2AttackTooManyStreams(t *testing.T) {
	underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		for id := uint32(1); id <= 201; id += 2 {
			r.request(id, "GET", "/wait", true)
		}
		f := r.until(5*time.Second, func(f http2.Frame) bool { _, ok := f.(*http2.RSTStreamFrame); return ok })
		if f == nil {
			t.Fatal("connection closed")
		}
		if rst := f.(*http2.RSTStreamFrame); rst.StreamID != 201 || rst.ErrCode != http2.ErrCodeRefusedStream {
			t.Fatalf("RST_STREAM %d %v, want 201 REFUSED_STREAM", rst.StreamID, rst.ErrCode)
		}
	})
}

func TestH2AttackSlowPreface(t *testing.T) {
	underAttack(t, Config{HeaderTimeout: 300 * time.Millisecond}, func(t *testing.T, ts *testServer) {
		for name, sent := range map[string]string{
			"partial preface": http2.ClientPreface[:10],
			"no SETTINGS":     http2.ClientPreface,
			"nothing":         "",
		} {
			t.Run(name, func(t *testing.T) {
				c := ts.dial(t)
				io.WriteString(c, sent)
				start := time.Now()
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				io.Copy(io.Discard, c)
				if d := time.Since(start); d > 3*time.Second {
					t.Fatalf("not closed after %v", d)
				}
			})
		}
	})
}

// TestH2AttackFloodsDoNotStarveOthers runs a PING flood and checks that a request on
// another connection is answered meanwhile.
func TestH2AttackFloodsDoNotStarveOthers(t *testing.T) {
	underAttack(t, Config{}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		sendAsync(r, frames(r, func(fw *http2.Framer) {
			for i := 0; i < 200000; i++ {
				fw.WritePing(false, [8]byte{})
			}
		}))
		resp, err := http.Get(ts.url("/hello"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		wantConnErrorOrLog(t, ts, r, http2.ErrCodeEnhanceYourCalm, "control frame flood")
	})
}

// TestH2AttackSlowBody: a stream whose body never comes is answered 408 after the body
// timeout, even while the client keeps the connection busy with PINGs; the app sees
// http.disconnect and the connection stays usable.
func TestH2AttackSlowBody(t *testing.T) {
	underAttack(t, Config{BodyTimeout: 300 * time.Millisecond}, func(t *testing.T, ts *testServer) {
		r := dialH2(t, ts.addr)
		r.request(1, "POST", "/read", false)
		r.fr.WriteData(1, false, []byte("some"))
		start := time.Now()
		for i := 0; i < 8; i++ { // PINGs do not keep a stalled upload alive
			r.fr.WritePing(false, [8]byte{byte(i)})
			time.Sleep(50 * time.Millisecond) // pacing: the client stays busy past the timeout
		}
		if s := r.wantStatus(5*time.Second, 1); s != "408" {
			t.Fatalf("status %s, want 408", s)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Fatalf("408 after %v, before the timeout", d)
		}
		r.request(3, "GET", "/hello", true)
		if s := r.wantStatus(5*time.Second, 3); s != "200" {
			t.Fatalf("after the timeout: %s", s)
		}
	})
}
