package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunCheck runs `run.sh check` (three asgo instances behind nginx with Redis) on
// free ports: it fails unless every message crossed the instances.
func TestRunCheck(t *testing.T) {
	for _, bin := range []string{"nginx", "redis-server", "redis-cli", "curl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is needed (make deps): %v", bin, err)
		}
	}
	port, redisPort := freeRun(t, 4), freeRun(t, 1)
	cmd := exec.Command("./run.sh", "check")
	cmd.Env = append(cmd.Environ(), "PORT="+strconv.Itoa(port), "REDIS_PORT="+strconv.Itoa(redisPort))
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("run.sh check did not finish:\n%s", out)
	}
	if err != nil || !strings.Contains(string(out), "check: ok") {
		t.Fatalf("run.sh check: %v\n%s", err, out)
	}
	for i := 1; i <= 3; i++ {
		if !strings.Contains(string(out), fmt.Sprintf("served by node-%d", i)) {
			t.Errorf("nginx did not spread the pages over the instances:\n%s", out)
		}
	}
}

// freeRun returns the first of n consecutive ports that are free now.
func freeRun(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.N(20000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				continue
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}
