package fairload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"strconv"
)

// ErrResponse is returned for a response this client cannot frame: a bad status line, or
// a body with neither a Content-Length nor chunked encoding.
var ErrResponse = errors.New("fairload: malformed response")

// head is what the client needs from a response head to find the next response.
type head struct {
	status  int
	length  int64 // Content-Length; -1 when chunked
	chunked bool
}

// readHead reads one response head. It parses only the status and the body framing, so
// that reading tens of thousands of pipelined responses costs the client little.
func readHead(br *bufio.Reader) (head, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return head{}, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return head{}, fmt.Errorf("%w: status line %q", ErrResponse, line)
	}
	h := head{length: -1}
	if h.status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return head{}, fmt.Errorf("%w: status line %q", ErrResponse, line)
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return head{}, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if h.length, err = strconv.ParseInt(string(value), 10, 64); err != nil || h.length < 0 {
				return head{}, fmt.Errorf("%w: Content-Length %q", ErrResponse, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			h.chunked = bytes.EqualFold(value, []byte("chunked"))
		}
	}
	if h.chunked {
		h.length = -1
	} else if h.length < 0 {
		return head{}, fmt.Errorf("%w: no Content-Length and not chunked", ErrResponse)
	}
	return h, nil
}

// copyBody copies the body that follows h on br to w. A chunked body's trailer section
// is consumed too, so that br is left at the next response.
func (h head) copyBody(br *bufio.Reader, w io.Writer) error {
	if !h.chunked {
		if w == io.Discard {
			_, err := br.Discard(int(h.length))
			return err
		}
		_, err := io.CopyN(w, br, h.length)
		return err
	}
	if _, err := io.Copy(w, httputil.NewChunkedReader(br)); err != nil {
		return err
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}

// readOK reads one response and drops its body; a status other than 200 is an error.
func readOK(br *bufio.Reader) error {
	h, err := readHead(br)
	if err != nil {
		return err
	}
	if h.status != 200 {
		return fmt.Errorf("fairload: status %d", h.status)
	}
	return h.copyBody(br, io.Discard)
}
