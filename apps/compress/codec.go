package compress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// encoder is what gzip.Writer, brotli.Writer and zstd.Encoder have in common.
type encoder interface {
	io.Writer
	Flush() error
	Close() error
	Reset(w io.Writer)
}

// codec is one encoding at one level, with its pool of encoders.
type codec struct {
	name  string // the Content-Encoding value
	value []byte // name as bytes, for the header
	pool  *sync.Pool
}

// inUse counts the encoders taken from the pools and not yet returned (for tests).
var inUse atomic.Int64

func (cd *codec) get(w io.Writer) encoder {
	inUse.Add(1)
	e := cd.pool.Get().(encoder)
	e.Reset(w)
	return e
}

// put returns e to the pool, detached from its writer. e may be in the middle of a
// stream: Reset discards what it held.
func (cd *codec) put(e encoder) {
	e.Reset(io.Discard)
	cd.pool.Put(e)
	inUse.Add(-1)
}

// pools holds one pool per encoding and level for the whole process, so that every
// Compressor with the same settings shares its idle encoders.
var (
	poolsMu sync.Mutex
	pools   = map[string]*sync.Pool{}
)

// windowLog is the window of brotli and zstd encoders: 64 KiB, so an encoder stays
// small (HTTP responses rarely gain from longer back-references).
const windowLog = 16

func codecFor(name string, cfg Config) (*codec, error) {
	var level int
	var newEnc func() encoder
	switch name {
	case "gzip":
		level = cfg.GzipLevel
		if level == 0 {
			level = 5
		}
		if (level < 1 || level > 9) && level != gzip.StatelessCompression {
			return nil, fmt.Errorf("compress: gzip level %d out of range 1-9", level)
		}
		newEnc = func() encoder {
			w, _ := gzip.NewWriterLevel(io.Discard, level)
			return w
		}
	case "br":
		level = cfg.BrotliLevel
		if level == 0 {
			level = 4
		}
		if level < 0 || level > 11 {
			return nil, fmt.Errorf("compress: brotli level %d out of range 0-11", level)
		}
		newEnc = func() encoder {
			return brotli.NewWriterOptions(io.Discard, brotli.WriterOptions{Quality: level, LGWin: windowLog})
		}
	case "zstd":
		level = cfg.ZstdLevel
		if level == 0 {
			level = 3
		}
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("compress: zstd level %d out of range 1-22", level)
		}
		zl := zstd.EncoderLevelFromZstd(level)
		level = int(zl)
		newEnc = func() encoder {
			e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zl), zstd.WithWindowSize(1<<windowLog),
				zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
			if err != nil {
				panic(err) // the options are constants
			}
			return e
		}
	default:
		return nil, fmt.Errorf("compress: unknown encoding %q", name)
	}
	key := fmt.Sprintf("%s/%d", name, level)
	poolsMu.Lock()
	p := pools[key]
	if p == nil {
		p = &sync.Pool{New: func() any { return newEnc() }}
		pools[key] = p
	}
	poolsMu.Unlock()
	return &codec{name: name, value: []byte(name), pool: p}, nil
}
