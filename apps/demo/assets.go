package demo

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"testing/fstest"
	"time"

	"github.com/asgo-dev/asgo/apps/static"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

//go:embed static
var embedded embed.FS

// started is the modification time of the demo's files: embedded files have none.
var started = time.Now().Truncate(time.Second)

// Assets returns the files the demo serves at /static: the embedded apps/demo/static
// directory plus a gzip-compressed sibling of every .css file, made here so that the
// repository holds no compressed blobs.
func Assets() fs.FS {
	out := fstest.MapFS{}
	_ = fs.WalkDir(embedded, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		name := p[len("static/"):]
		out[name] = &fstest.MapFile{Data: b, Mode: 0o444, ModTime: started}
		if len(name) > 4 && name[len(name)-4:] == ".css" {
			var z bytes.Buffer
			w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
			w.Write(b)
			w.Close()
			out[name+".gz"] = &fstest.MapFile{Data: z.Bytes(), Mode: 0o444, ModTime: started}
		}
		return nil
	})
	return out
}

// StaticApp returns the demo's static file app (see Assets), with index.html for
// directories and a five-minute Cache-Control. The index page is preceded by a 103
// Early Hints that preloads its stylesheet (StaticIndexHints).
func StaticApp() asgi.App {
	app, err := static.New(static.Config{FS: Assets(), Index: "index.html", CacheControl: "public, max-age=300"})
	if err != nil {
		panic(err) // the embedded FS is always valid
	}
	return EarlyHints(app, StaticIndexHints, MountStatic+"/", MountStatic+"/index.html")
}
