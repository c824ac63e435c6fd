package asgo

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/asgo-dev/asgo/eventloop"
)

// reload refreshes what can change without a restart (SIGHUP): the access-log file,
// the log level from LogLevelFile, then every ReloadHook, and logs one line with the
// outcome of each part. It runs on Serve's goroutine. A supervisor of workers (srv nil)
// reloads only its own log level.
func reload(srv *eventloop.Server, cfg *Config, log *slog.Logger) {
	var attrs []any
	failed := false
	report := func(name string, err error, ok string) {
		if err != nil {
			failed = true
			attrs = append(attrs, name, "error: "+err.Error())
			return
		}
		attrs = append(attrs, name, ok)
	}
	if srv != nil && srv.Config().AccessLogFile != "" {
		report("access-log", srv.ReopenAccessLog(), "reopened")
	}
	if cfg.LogLevelFile != "" && cfg.LogLevel != nil {
		level, err := readLevelFile(cfg.LogLevelFile)
		if err == nil {
			cfg.LogLevel.Set(level)
		}
		report("log-level", err, strings.ToLower(level.String()))
	}
	for _, h := range cfg.ReloadHooks {
		if srv == nil {
			break // a supervisor serves nothing: its workers run the hooks
		}
		report(h.Name, h.Reload(), "ok")
	}
	if len(attrs) == 0 {
		if srv == nil {
			return
		}
		log.Info("reload: nothing to reload (no --access-log-file, --log-level-file or reload hook)")
		return
	}
	if failed {
		log.Error("reload failed in part", attrs...)
		return
	}
	log.Info("reloaded", attrs...)
}

// readLevelFile reads a log level (debug, info, warn, error) from the file path: its
// first word, so a trailing newline or comment line does not matter.
func readLevelFile(path string) (slog.Level, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, fmt.Errorf("%s is empty; want debug, info, warn or error", path)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(fields[0])); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return level, nil
}
