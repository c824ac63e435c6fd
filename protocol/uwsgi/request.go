package uwsgi

// Var is one key/value pair of the vars block, as sent.
type Var struct {
	Key, Value []byte
}

// known names the vars the parser looks up itself.
type known uint8

const (
	kMethod known = iota
	kPathInfo
	kScriptName
	kRequestURI
	kQueryString
	kContentType
	kContentLength
	kServerProtocol
	kRemoteAddr
	kRemotePort
	kServerName
	kServerPort
	kHTTPS
	kUWSGIScheme
	kWSGIURLScheme
	kRequestScheme
	numKnown
)

// knownIndex maps a var name to its known slot; ok is false for the others. A switch
// on string(key) does not allocate.
func knownIndex(key []byte) (known, bool) {
	switch string(key) {
	case "REQUEST_METHOD":
		return kMethod, true
	case "PATH_INFO":
		return kPathInfo, true
	case "SCRIPT_NAME":
		return kScriptName, true
	case "REQUEST_URI":
		return kRequestURI, true
	case "QUERY_STRING":
		return kQueryString, true
	case "CONTENT_TYPE":
		return kContentType, true
	case "CONTENT_LENGTH":
		return kContentLength, true
	case "SERVER_PROTOCOL":
		return kServerProtocol, true
	case "REMOTE_ADDR":
		return kRemoteAddr, true
	case "REMOTE_PORT":
		return kRemotePort, true
	case "SERVER_NAME":
		return kServerName, true
	case "SERVER_PORT":
		return kServerPort, true
	case "HTTPS":
		return kHTTPS, true
	case "UWSGI_SCHEME":
		return kUWSGIScheme, true
	case "wsgi.url_scheme":
		return kWSGIURLScheme, true
	case "REQUEST_SCHEME":
		return kRequestScheme, true
	}
	return 0, false
}

// Request is one parsed packet. Its byte slices point into the data given to Parse:
// they are valid until the next Parse call and only while the caller has not discarded
// or overwritten those bytes. The Request itself is reused for the next packet.
type Request struct {
	// Modifier2 is the header's modifier2 byte (0 from nginx unless uwsgi_modifier2 is
	// set); asgo gives it no meaning.
	Modifier2 byte
	// Vars holds every var in the order sent, repeated keys included. Its backing array
	// is reused across packets.
	Vars []Var
	// ContentLength is the body length from CONTENT_LENGTH (0 when absent or empty).
	ContentLength int64

	// idx holds index+1 into Vars of the last var of each known name (0: absent). A
	// var takes at least 4 bytes, so a 64 KiB block holds fewer than 32768.
	idx    [numKnown]int16
	clSeen bool // a non-empty CONTENT_LENGTH was parsed
}

// reset clears r for a new packet, keeping the Vars backing array.
func (r *Request) reset() {
	*r = Request{Vars: r.Vars[:0]}
}

// add appends a var; a repeated known name replaces the earlier one for the lookups
// (the last one wins, as in a Python dict), except CONTENT_LENGTH, whose values must
// agree.
func (r *Request) add(key, value []byte) *Error {
	r.Vars = append(r.Vars, Var{Key: key, Value: value})
	k, ok := knownIndex(key)
	if !ok {
		return nil
	}
	r.idx[k] = int16(len(r.Vars))
	if k == kContentLength && len(value) > 0 {
		n, ok := parseDecimal(value)
		if !ok {
			return ErrInvalidContentLength
		}
		if r.clSeen && n != r.ContentLength {
			return ErrConflictingContentLength
		}
		r.ContentLength, r.clSeen = n, true
	}
	return nil
}

// get returns the value of the last var named by k and whether it is present.
func (r *Request) get(k known) ([]byte, bool) {
	i := r.idx[k]
	if i == 0 {
		return nil, false
	}
	return r.Vars[i-1].Value, true
}

// Get returns the value of the last var named key, or nil when there is none.
func (r *Request) Get(key string) []byte {
	for i := len(r.Vars) - 1; i >= 0; i-- {
		if string(r.Vars[i].Key) == key {
			return r.Vars[i].Value
		}
	}
	return nil
}

// Method returns REQUEST_METHOD.
func (r *Request) Method() []byte { v, _ := r.get(kMethod); return v }

// validate checks what a request needs: a token method, a path and the body limit.
func (r *Request) validate(cfg Config) *Error {
	if m, _ := r.get(kMethod); !isToken(m) {
		return ErrMissingMethod
	}
	_, hasPath := r.get(kPathInfo)
	_, hasURI := r.get(kRequestURI)
	if !hasPath && !hasURI {
		return ErrMissingPath
	}
	if cfg.MaxBodyBytes > 0 && r.ContentLength > cfg.MaxBodyBytes {
		return ErrBodyTooLarge
	}
	return nil
}

// parseDecimal parses 1*DIGIT into a non-negative int64.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false // 18 digits always fit in int64
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// isToken reports whether b is a non-empty RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() [128]bool {
	var t [128]bool
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
