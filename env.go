package asgo

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// envPrefix starts the environment variable of every serve flag: ASGO_BIND for
// --bind, ASGO_TIMEOUT_KEEP_ALIVE for --timeout-keep-alive (as uvicorn's UVICORN_*).
const envPrefix = "ASGO_"

// envAliases are further variables a flag reads when its ASGO_ variable is not set,
// in order: uvicorn's and gunicorn's FORWARDED_ALLOW_IPS.
var envAliases = map[string][]string{
	"forwarded-allow-ips": {"FORWARDED_ALLOW_IPS"},
}

const envUsage = `
Environment: every flag can also be set as ASGO_<FLAG>, upper case with dashes as
underscores (ASGO_BIND, ASGO_TIMEOUT_KEEP_ALIVE, ASGO_WS_MAX_SIZE, ASGO_ACCESS_LOG=false);
a flag on the command line wins over its variable; an empty variable counts as unset. Repeatable flags (--bind, --uds, --fd, --static,
--ws-allowed-origin, --allow-ip, --deny-ip, --ssl-bind) take a comma-separated list there
(ASGO_BIND=127.0.0.1:8000,[::1]:8000). --forwarded-allow-ips also reads
FORWARDED_ALLOW_IPS.
`

// envName returns the environment variable of the flag called name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its environment
// variable, if set. A repeatable flag (a *bindList) gets each entry of the
// comma-separated value. Errors name the variable; they are printed to stderr.
func applyEnv(fs *flag.FlagSet, cmd string, stderr io.Writer) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		name, value, ok := lookupFlagEnv(f.Name)
		if !ok {
			return
		}
		if e := setFromEnv(fs, f, value); e != nil {
			err = fmt.Errorf("%s=%q: invalid value for --%s: %w", name, value, f.Name, e)
			fmt.Fprintf(stderr, "%s: environment variable %v\n", cmd, err)
		}
	})
	return err
}

// lookupFlagEnv returns the first set variable of the flag: ASGO_<FLAG>, then its
// aliases. A variable set to the empty string counts as unset (as container tools
// often pass one), so it never overrides a default with an invalid value.
func lookupFlagEnv(flagName string) (name, value string, ok bool) {
	for _, name := range append([]string{envName(flagName)}, envAliases[flagName]...) {
		if value, ok := os.LookupEnv(name); ok && value != "" {
			return name, value, true
		}
	}
	return "", "", false
}

func setFromEnv(fs *flag.FlagSet, f *flag.Flag, value string) error {
	if _, repeatable := f.Value.(*bindList); !repeatable {
		return fs.Set(f.Name, value)
	}
	for _, e := range strings.Split(value, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if err := fs.Set(f.Name, e); err != nil {
			return err
		}
	}
	return nil
}
