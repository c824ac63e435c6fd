package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchListsTheGrid(t *testing.T) {
	out, err := exec.Command(asgoBin, "bench", "--bench-dir", filepath.Join("..", "..", "bench"), "-list").CombinedOutput()
	if err != nil {
		t.Fatalf("asgo bench -list: %v\n%s", err, out)
	}
	for _, want := range []string{"asgo        asgo (demo app)", "h1-256", "ws-10000", "idle-h2-max"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("asgo bench -list lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchDryRunPlansTheChosenRuns(t *testing.T) {
	cmd := exec.Command(asgoBin, "bench", "-dry-run", "-servers", "asgo,nethttp", "-scenarios", "h1-64", "-rounds", "2", "-pin", "on")
	cmd.Dir = "." // found from the working directory upwards
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("asgo bench -dry-run: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "4 runs, about") || !strings.Contains(s, "h1-64            round 2 pinned=true  nethttp") {
		t.Errorf("unexpected plan:\n%s", s)
	}
}

func TestBenchRefusesADirectoryThatIsNotTheBenchModule(t *testing.T) {
	out, err := exec.Command(asgoBin, "bench", "--bench-dir", t.TempDir(), "-list").CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "is not the bench module") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
