package uwsgi

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	get := packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/")
	tests := []struct {
		name     string
		cfg      Config
		in       []byte
		bodies   []string // per packet
		err      error
		leftover int
	}{
		{"nginx POST", Config{}, nginxPacket(), []string{"hello world"}, nil, 0},
		{"GET without body", Config{}, get, []string{""}, nil, 0},
		{"two packets", Config{}, append(append([]byte{}, nginxPacket()...), get...), []string{"hello world", ""}, nil, 0},
		{"empty CONTENT_LENGTH", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET", "REQUEST_URI", "/", "CONTENT_LENGTH", ""), []string{""}, nil, 0},
		{"modifier2 ignored", Config{}, packet(0, 9, "ab", "REQUEST_METHOD", "PUT", "PATH_INFO", "/x", "CONTENT_LENGTH", "2"), []string{"ab"}, nil, 0},
		{"same CONTENT_LENGTH twice", Config{}, packet(0, 0, "ab", "REQUEST_METHOD", "PUT", "PATH_INFO", "/", "CONTENT_LENGTH", "2", "CONTENT_LENGTH", "2"), []string{"ab"}, nil, 0},
		{"empty value", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "HTTPS", ""), []string{""}, nil, 0},
		{"body at the limit", Config{MaxBodyBytes: 2}, packet(0, 0, "ab", "REQUEST_METHOD", "PUT", "PATH_INFO", "/", "CONTENT_LENGTH", "2"), []string{"ab"}, nil, 0},
		{"vars at the count limit", Config{MaxVars: 3}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "A", "b"), []string{""}, nil, 0},

		{"truncated header", Config{}, []byte{0, 10}, nil, nil, 2},
		{"truncated vars", Config{}, get[:len(get)-1], nil, nil, len(get) - 1},
		{"truncated body", Config{}, nginxPacket()[:len(nginxPacket())-3], []string{"hello wo"}, nil, 0},
		{"modifier1 5 (PSGI)", Config{}, packet(5, 0, "", "REQUEST_METHOD", "GET"), nil, ErrModifier1, 0},
		{"modifier1 after a packet", Config{}, append(append([]byte{}, get...), 1), []string{""}, ErrModifier1, 0},
		{"vars too large", Config{MaxVarsBytes: 20}, get, nil, ErrVarsTooLarge, 0},
		{"too many vars", Config{MaxVars: 2}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "A", "b"), nil, ErrTooManyVars, 0},
		{"key length past the block", Config{}, []byte{0, 3, 0, 0, 9, 0, 'A'}, nil, ErrMalformedVars, 0},
		{"value length past the block", Config{}, []byte{0, 6, 0, 0, 1, 0, 'A', 5, 0, 'x'}, nil, ErrMalformedVars, 0},
		{"value length missing", Config{}, []byte{0, 3, 0, 0, 1, 0, 'A'}, nil, ErrMalformedVars, 0},
		{"odd byte at the end", Config{}, append(binLen(get), 0), nil, ErrMalformedVars, 0},
		{"empty key", Config{}, packet(0, 0, "", "", "x", "REQUEST_METHOD", "GET"), nil, ErrInvalidKey, 0},
		{"key with space", Config{}, packet(0, 0, "", "REQUEST METHOD", "GET"), nil, ErrInvalidKey, 0},
		{"value with LF", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "HTTP_X", "a\nb"), nil, ErrInvalidValue, 0},
		{"value with NUL", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/\x00"), nil, ErrInvalidValue, 0},
		{"no method", Config{}, packet(0, 0, "", "PATH_INFO", "/"), nil, ErrMissingMethod, 0},
		{"bad method", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GE T", "PATH_INFO", "/"), nil, ErrMissingMethod, 0},
		{"no path", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET"), nil, ErrMissingPath, 0},
		{"empty block", Config{}, []byte{0, 0, 0, 0}, nil, ErrMissingMethod, 0},
		{"negative CONTENT_LENGTH", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "CONTENT_LENGTH", "-1"), nil, ErrInvalidContentLength, 0},
		{"huge CONTENT_LENGTH", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "CONTENT_LENGTH", "99999999999999999999"), nil, ErrInvalidContentLength, 0},
		{"conflicting CONTENT_LENGTH", Config{}, packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "CONTENT_LENGTH", "1", "CONTENT_LENGTH", "2"), nil, ErrConflictingContentLength, 0},
		{"body too large", Config{MaxBodyBytes: 10}, nginxPacket(), nil, ErrBodyTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := feedAll(t, tt.cfg, tt.in)
			if res.err != tt.err {
				t.Fatalf("err %v, want %v", res.err, tt.err)
			}
			if len(res.msgs) != len(tt.bodies) {
				t.Fatalf("%d packets, want %d: %+v", len(res.msgs), len(tt.bodies), res.msgs)
			}
			for i, m := range res.msgs {
				if m.body != tt.bodies[i] {
					t.Errorf("packet %d body %q, want %q", i, m.body, tt.bodies[i])
				}
			}
			if tt.err == nil && res.leftover != tt.leftover {
				t.Errorf("leftover %d, want %d", res.leftover, tt.leftover)
			}
		})
	}
}

// binLen returns p's vars block with a header that counts one byte more.
func binLen(p []byte) []byte {
	out := append([]byte(nil), p...)
	binary.LittleEndian.PutUint16(out[1:3], binary.LittleEndian.Uint16(out[1:3])+1)
	return out
}

func TestVarsLayout(t *testing.T) {
	res := feedAll(t, Config{}, nginxPacket())
	var want strings.Builder
	for i := 0; i < len(nginxVars); i += 2 {
		want.WriteString(nginxVars[i] + "=" + nginxVars[i+1] + "\n")
	}
	if res.msgs[0].vars != want.String() || !res.msgs[0].ended {
		t.Fatalf("vars\n%s\nwant\n%s", res.msgs[0].vars, want.String())
	}
}

func TestParserStates(t *testing.T) {
	var p Parser
	if !p.Idle() {
		t.Fatal("zero parser not idle")
	}
	in := nginxPacket()
	n, ev, err := p.Parse(in[:10])
	if n != 0 || ev != EventNone || err != nil || !p.Idle() {
		t.Fatalf("partial head: %d %v %v", n, ev, err)
	}
	n, ev, err = p.Parse(in)
	if ev != EventHead || err != nil || p.Idle() || p.Remaining() != 11 {
		t.Fatalf("head: %d %v %v remaining %d", n, ev, err, p.Remaining())
	}
	if got := string(p.Request().Get("PATH_INFO")); got != "/app/echo me" {
		t.Fatalf("PATH_INFO %q", got)
	}
	if p.Request().Get("NOPE") != nil || string(p.Request().Method()) != "POST" {
		t.Fatal("Get")
	}
	in = in[n:]
	if n, ev, _ = p.Parse(in[:5]); ev != EventBody || n != 5 || string(p.Body()) != "hello" {
		t.Fatalf("body: %d %v %q", n, ev, p.Body())
	}
	in = in[n:]
	if n, ev, _ = p.Parse(append(bytes.Clone(in), "next"...)); ev != EventBody || n != 6 {
		t.Fatalf("rest of body: %d %v", n, ev)
	}
	if n, ev, _ = p.Parse(nil); ev != EventEnd || n != 0 || !p.Idle() {
		t.Fatalf("end: %d %v", n, ev)
	}
	if _, _, err = p.Parse([]byte{7}); err != ErrModifier1 || p.Err() != ErrModifier1 {
		t.Fatalf("modifier1: %v", err)
	}
	if _, _, err = p.Parse(nginxPacket()); err != ErrModifier1 {
		t.Fatal("error is not sticky")
	}
	if ErrModifier1.Error() != "uwsgi: modifier1 other than 0 (WSGI request) not supported" || ErrModifier1.Status != 501 {
		t.Fatal(ErrModifier1)
	}
	if EventBody.String() != "EventBody" || Event(9).String() != "Event(?)" {
		t.Fatal("Event.String")
	}
}

func TestMaxVarsBytesDefault(t *testing.T) {
	if c := (Config{MaxVarsBytes: 1 << 20}).Normalize(); c.MaxVarsBytes != 65535 || c.MaxVars != 200 {
		t.Fatalf("%+v", c)
	}
	// A block of exactly 65535 bytes parses.
	pad := strings.Repeat("v", 65535-len(packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "PAD", ""))+4)
	in := packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "PAD", pad)
	if size := binary.LittleEndian.Uint16(in[1:3]); size != 65535 {
		t.Fatalf("block of %d bytes", size)
	}
	var p Parser
	if _, ev, err := p.Parse(in); ev != EventHead || err != nil {
		t.Fatalf("%v %v", ev, err)
	}
}
