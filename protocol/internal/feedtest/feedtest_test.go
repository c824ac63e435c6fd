package feedtest

import (
	"bytes"
	"errors"
	"testing"
)

// lineParser reports one event per complete "\n"-terminated line and fails on "!".
type lineParser struct{ lines []string }

func (p *lineParser) parse(buf []byte) (int, bool, error) {
	if bytes.HasPrefix(buf, []byte("!")) {
		return 0, false, errors.New("bang")
	}
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		return 0, true, nil
	}
	p.lines = append(p.lines, string(buf[:i]))
	return i + 1, false, nil
}

func TestFeedInEveryChunking(t *testing.T) {
	for name, next := range map[string]func(int) int{
		"whole":        func(n int) int { return n },
		"byte by byte": func(int) int { return 1 },
		"threes":       func(n int) int { return min(n, 3) },
	} {
		t.Run(name, func(t *testing.T) {
			var p lineParser
			left, err := Feed([]byte("ab\ncde\nf"), next, p.parse)
			if err != nil || left != 1 || len(p.lines) != 2 || p.lines[0] != "ab" || p.lines[1] != "cde" {
				t.Fatalf("lines %q, leftover %d, err %v", p.lines, left, err)
			}
			p = lineParser{}
			if _, err := Feed([]byte("ab\n!x\n"), next, p.parse); err == nil || len(p.lines) != 1 {
				t.Fatalf("lines %q, err %v; want one line, then the error", p.lines, err)
			}
		})
	}
}

func TestFeedPanicsWithoutProgress(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a parser that never consumes did not panic")
		}
	}()
	Feed([]byte("x"), func(int) int { return 1 }, func([]byte) (int, bool, error) { return 0, false, nil })
}
