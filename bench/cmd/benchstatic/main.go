// Command benchstatic measures static files: asgo's --static against net/http's
// FileServer (bench/peers/fileserver) and nginx serving the same directory, a 4 KiB file
// and a 64 MiB file, in one run; and a compressed response: asgo's demo /json (64 KiB of
// JSON, gzip by apps/compress) against the same bytes from the FileServer inside
// klauspost's gzhttp and from nginx with gzip on, requested with Accept-Encoding: gzip. Every server is pinned to core 0 and wrk to core 1, as in
// benchgrid; the rounds alternate the servers (A B C A B C ...), each warmed up first, and
// the median of the rounds is reported with requests/s, MB/s of body and requests per
// server CPU-second, and each rate as a ratio to net/http and to nginx.
//
//	bin/benchstatic -asgo ../bin/asgo -rounds 5 -duration 4s
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/grid"
	"github.com/asgo-dev/asgo/bench/internal/loadgen"
)

type scenario struct {
	id    string
	file  string
	size  int
	conns int
	// asgoPath, if set, is asgo's route for the scenario instead of the file under
	// /static/ (the JSON document is an app's response, the file holds the same bytes).
	asgoPath string
	headers  []string
	title    string
}

var scenarios = []scenario{
	{id: "static-4k", file: "4k.bin", size: 4 << 10, conns: 64},
	{id: "static-64m", file: "64m.bin", size: 64 << 20, conns: 4},
	{id: "json-64k-gzip", file: "64k.json", size: 64 << 10, conns: 64, asgoPath: "/json",
		headers: []string{"Accept-Encoding: gzip"}, title: "GET of 64 KiB of JSON, gzip-compressed per request"},
}

// path is where server name serves sc.
func (sc scenario) path(name string) string {
	if name == "asgo" && sc.asgoPath != "" {
		return sc.asgoPath
	}
	return "/static/" + sc.file
}

type server struct {
	name string
	args func(port int) []string
}

type sample struct{ rate, perCPU float64 }

func main() {
	asgo := flag.String("asgo", os.Getenv("ASGO"), "asgo binary")
	bin := flag.String("bin", "bin", "directory of the fileserver peer")
	rounds := flag.Int("rounds", 3, "rounds")
	duration := flag.Duration("duration", 4*time.Second, "measured interval per run")
	warmup := flag.Duration("warmup", time.Second, "warm-up per server")
	only := flag.String("scenarios", "", "comma-separated scenario ids to run (default: all)")
	flag.Parse()
	if *asgo == "" {
		fatal(fmt.Errorf("no asgo binary (-asgo or $ASGO)"))
	}
	work, err := os.MkdirTemp("", "benchstatic")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(work)
	dir := filepath.Join(work, "files")
	if err := writeFiles(dir); err != nil {
		fatal(err)
	}
	if err := fetchJSON(*asgo, filepath.Join(dir, "64k.json")); err != nil {
		fatal(err)
	}
	script := filepath.Join(work, "wrk.lua")
	if err := os.WriteFile(script, loadgen.WrkScript, 0o644); err != nil {
		fatal(err)
	}
	servers := []server{
		{"asgo", func(port int) []string {
			return []string{*asgo, "serve", "--app", "demo", "--bind", addr(port), "--loops", "1", "--static", "/static=" + dir,
				"--timeout-keep-alive", "10m", "--access-log=false", "--log-level", "warn"}
		}},
		{"nethttp", func(port int) []string {
			return []string{filepath.Join(*bin, "fileserver"), "-addr", addr(port), "-dir", dir}
		}},
		{"nginx", func(port int) []string {
			conf, err := nginxConf(work, dir, port)
			if err != nil {
				fatal(err)
			}
			return []string{"nginx", "-p", work, "-c", conf}
		}},
	}
	fmt.Printf("# static files: asgo --static vs net/http FileServer vs nginx\n\n")
	fmt.Printf("%s; pinned: server core 0, wrk core 1; %d rounds of %v, medians (min-max); load average %s\n\n",
		time.Now().UTC().Format(time.RFC3339), *rounds, *duration, loadavg())
	for _, sc := range scenarios {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), sc.id) {
			continue
		}
		results := run(sc, servers, script, work, *rounds, *duration, *warmup)
		report(sc, servers, results)
	}
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// writeFiles writes the served files: random bytes, so nothing compresses them.
func writeFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, sc := range scenarios {
		if sc.asgoPath != "" {
			continue // written by fetchJSON
		}
		b := make([]byte, sc.size)
		_, _ = rand.Read(b)
		if err := os.WriteFile(filepath.Join(dir, sc.file), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var nginxTmpl = template.Must(template.New("nginx").Parse(`daemon off;
master_process on;
worker_processes 1;
user root;
pid {{.Work}}/nginx-{{.Port}}.pid;
error_log {{.Work}}/nginx-{{.Port}}.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path {{.Work}}/body;
    proxy_temp_path {{.Work}}/proxy;
    fastcgi_temp_path {{.Work}}/fastcgi;
    uwsgi_temp_path {{.Work}}/uwsgi;
    scgi_temp_path {{.Work}}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 600s;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    types { application/json json; }
    gzip on;
    gzip_types application/json;
    gzip_min_length 256;
    gzip_comp_level 5; # as asgo's apps/compress (gzhttp: its default)
    server {
        listen 127.0.0.1:{{.Port}};
        location /static/ { alias {{.Dir}}/; }
        location = / { return 200 "Hello, World!"; }
    }
}
`))

func nginxConf(work, dir string, port int) (string, error) {
	path := filepath.Join(work, "nginx-"+strconv.Itoa(port)+".conf")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return path, nginxTmpl.Execute(f, map[string]any{"Work": work, "Dir": dir, "Port": port})
}

// run starts every server, warms each up, then alternates them round by round.
func run(sc scenario, servers []server, script, work string, rounds int, d, warmup time.Duration) map[string][]sample {
	ctx := context.Background()
	procs := make([]*grid.Proc, len(servers))
	ports := make([]int, len(servers))
	for i, s := range servers {
		port, err := grid.FreePort()
		if err != nil {
			fatal(err)
		}
		log, err := os.Create(filepath.Join(work, s.name+"-"+sc.id+".log"))
		if err != nil {
			fatal(err)
		}
		defer log.Close()
		gs := &grid.Server{Name: s.name, Kind: grid.KindGoPeer, Routes: map[grid.Family]string{grid.Hello: sc.path(s.name)},
			Args: func(*grid.Setup, int, bool) []string { return s.args(port) }}
		p, err := grid.Launch(ctx, &grid.Setup{}, gs, port, true, false, log)
		if err != nil {
			fatal(fmt.Errorf("%s: %w", s.name, err))
		}
		defer p.Stop(2 * time.Second)
		procs[i], ports[i] = p, port
		if _, err := wrk(sc, s.name, port, script, warmup); err != nil {
			fatal(fmt.Errorf("%s warm-up: %w", s.name, err))
		}
	}
	out := map[string][]sample{}
	for r := range rounds {
		for i, s := range servers {
			before := procs[i].CPU()
			res, err := wrk(sc, s.name, ports[i], script, d)
			cpu := procs[i].CPU().Sub(before).Total()
			if err != nil {
				fatal(fmt.Errorf("%s %s round %d: %w", sc.id, s.name, r+1, err))
			}
			rate := float64(res.Requests) / res.Duration.Seconds()
			smp := sample{rate: rate}
			if cpu > 0 {
				smp.perCPU = float64(res.Requests) / cpu.Seconds()
			}
			fmt.Fprintf(os.Stderr, "%s round %d %-8s %10.1f req/s  %8.1f MB/s  errors %d\n", sc.id, r+1, s.name, rate,
				rate*float64(sc.size)/1e6, res.Errors)
			if res.Errors > res.Requests/100 {
				fatal(fmt.Errorf("%s %s: %d errors in %d requests", sc.id, s.name, res.Errors, res.Requests))
			}
			out[s.name] = append(out[s.name], smp)
		}
	}
	return out
}

func wrk(sc scenario, name string, port int, script string, d time.Duration) (loadgen.Result, error) {
	w := loadgen.Wrk{URL: "http://" + addr(port) + sc.path(name), Conns: sc.conns, Duration: d, Script: script,
		Timeout: 30 * time.Second, Headers: sc.headers}
	cmd := exec.Command("taskset", append([]string{"-c", "1"}, w.Args()...)...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return loadgen.Result{}, fmt.Errorf("wrk: %v: %s", err, b)
	}
	return loadgen.ParseWrk(b)
}

func median(xs []float64) (med, lo, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

func report(sc scenario, servers []server, results map[string][]sample) {
	title := sc.title
	if title == "" {
		title = "GET of a " + size(sc.size) + " file"
	}
	fmt.Printf("## %s: %s, %d connections\n\n", sc.id, title, sc.conns)
	fmt.Println("| server | req/s (median) | min-max | MB/s | req per server CPU-s | vs nethttp | vs nginx | vs nethttp per CPU-s | vs nginx per CPU-s |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	med := map[string][2]float64{}
	for _, s := range servers {
		var rates, per []float64
		for _, x := range results[s.name] {
			rates, per = append(rates, x.rate), append(per, x.perCPU)
		}
		r, _, _ := median(rates)
		p, _, _ := median(per)
		med[s.name] = [2]float64{r, p}
	}
	for _, s := range servers {
		var rates []float64
		for _, x := range results[s.name] {
			rates = append(rates, x.rate)
		}
		r, lo, hi := median(rates)
		p := med[s.name][1]
		fmt.Printf("| %s | %.1f | %.1f-%.1f | %.1f | %.1f | %.2fx | %.2fx | %.2fx | %.2fx |\n", s.name, r, lo, hi, r*float64(sc.size)/1e6, p,
			r/med["nethttp"][0], r/med["nginx"][0], p/med["nethttp"][1], p/med["nginx"][1])
	}
	fmt.Println()
}

func size(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n>>10) + " KiB"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchstatic:", err)
	os.Exit(1)
}

// fetchJSON writes asgo's /json document (uncompressed) to path, so that the other
// servers serve the very same bytes.
func fetchJSON(asgo, path string) error {
	port, err := grid.FreePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(asgo, "serve", "--app", "demo", "--bind", addr(port), "--log-level", "warn")
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr(port) + "/json")
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr != nil || resp.StatusCode != 200 {
				return fmt.Errorf("asgo /json: %d %v", resp.StatusCode, rerr)
			}
			return os.WriteFile(path, b, 0o644)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("asgo /json: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
