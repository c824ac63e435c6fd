package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    stat
		wantErr bool
	}{
		{"plain", "42 (asgo) S 7 42 42 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 5 0", stat{ppid: 7, utime: 250, stime: 31}, false},
		{"name with spaces and parens", "9 (a (b) c) R 1 9 9 0 -1 0 0 0 0 0 3 4 0 0", stat{ppid: 1, utime: 3, stime: 4}, false},
		{"no paren", "9 asgo R 1", stat{}, true},
		{"short", "9 (x) R 1 2", stat{}, true},
		{"not a number", "9 (x) R one 9 9 0 -1 0 0 0 0 0 3 4 0", stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseKiB(t *testing.T) {
	if v, err := parseKiB("   1234 kB"); err != nil || v != 1234 {
		t.Fatalf("parseKiB = %d, %v", v, err)
	}
	if _, err := parseKiB("1234 MB"); err == nil {
		t.Fatal("parseKiB accepted MB")
	}
}

func TestSelfMeasures(t *testing.T) {
	pid := os.Getpid()
	rss, err := RSS(pid)
	if err != nil || rss <= 0 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	before, err := TreeCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	after, _ := TreeCPU(pid)
	if after.Sub(before).Total() <= 0 {
		t.Fatalf("CPU did not advance: %v -> %v", before, after)
	}
	if tree := Tree(pid); len(tree) == 0 || tree[0] != pid {
		t.Fatalf("Tree(%d) = %v", pid, tree)
	}
	if _, err := RSS(1 << 30); err != ErrNoProcess {
		t.Fatalf("RSS of a missing pid: %v", err)
	}
}

func TestFileLimit(t *testing.T) {
	soft, hard, err := FileLimit()
	if err != nil || soft == 0 || hard < soft {
		t.Fatalf("FileLimit = %d, %d, %v", soft, hard, err)
	}
}

func TestSystemCPU(t *testing.T) {
	a, err := parseSystemCPU("cpu  100 0 50 800 50 0 0 0 0 0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := parseSystemCPU("cpu  200 0 100 900 50 0 0 150 0 0")
	busy, steal := b.Shares(a)
	// 400 ticks passed: 150 busy, 100 idle, 150 stolen.
	if busy != 150.0/400 || steal != 150.0/400 {
		t.Fatalf("busy %v steal %v", busy, steal)
	}
	if _, err := parseSystemCPU("intr 1 2 3"); err == nil {
		t.Fatal("non-cpu line accepted")
	}
	if _, err := ReadSystemCPU(); err != nil {
		t.Fatal(err)
	}
}
