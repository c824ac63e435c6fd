package static

import (
	"strconv"
	"strings"
	"time"
)

// httpRange is the byte range [start, start+length).
type httpRange struct{ start, length int64 }

// maxRanges is the most ranges one request may ask for; more are ignored (200).
const maxRanges = 32

// parseRange parses a Range header value for a file of size bytes. It returns the
// satisfiable ranges, and ok false when the header must be ignored (not bytes, bad
// syntax, too many ranges, or more bytes than the file: the whole file is cheaper).
// ok true with no ranges means none is satisfiable: 416.
func parseRange(v string, size int64) (ranges []httpRange, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found {
		return nil, false
	}
	var total int64
	n := 0
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if n++; n > maxRanges {
			return nil, false
		}
		first, last, dash := strings.Cut(part, "-")
		if !dash {
			return nil, false
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var r httpRange
		if first == "" { // suffix: the last N bytes
			n, err := parseNum(last)
			if err != nil {
				return nil, false
			}
			if n == 0 || size == 0 {
				continue // unsatisfiable
			}
			n = min(n, size)
			r = httpRange{size - n, n}
		} else {
			start, err := parseNum(first)
			if err != nil {
				return nil, false
			}
			end := size - 1
			if last != "" {
				if end, err = parseNum(last); err != nil || end < start {
					return nil, false
				}
				end = min(end, size-1)
			}
			if start >= size {
				continue // unsatisfiable
			}
			r = httpRange{start, end - start + 1}
		}
		total += r.length
		ranges = append(ranges, r)
	}
	if n == 0 || total > size {
		return nil, false
	}
	return ranges, true
}

func parseNum(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}

// Content codings of the precompressed siblings, in order of preference at equal q.
var encodings = [...]struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// acceptQ returns the q-value Accept-Encoding gives the coding name (0 when it is not
// acceptable), honouring "*" for codings not listed.
func acceptQ(accept, name string) float64 {
	star := -1.0
	for item := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(item, ";")
		coding = strings.TrimSpace(coding)
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		switch {
		case strings.EqualFold(coding, name):
			return q
		case coding == "*":
			star = q
		}
	}
	return max(star, 0)
}

// etagMatch reports whether the If-None-Match list matches etag by weak comparison.
func etagMatch(list, etag string) bool {
	if strings.TrimSpace(list) == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for tag := range strings.SplitSeq(list, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == want {
			return true
		}
	}
	return false
}

// timeFormat is the IMF-fixdate of HTTP dates (net/http's TimeFormat).
const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// parseHTTPDate parses the three date formats HTTP allows.
func parseHTTPDate(v string) (time.Time, bool) {
	for _, layout := range []string{timeFormat, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
