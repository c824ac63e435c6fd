// Package static serves files from a directory or an fs.FS: middleware that answers
// the requests under a URL prefix with files and passes everything else to the app
// it wraps.
//
// # What it serves
//
// GET and HEAD (HEAD gets the headers of GET and no body); other methods get 405 with
// Allow: GET, HEAD. Content-Type comes from the file name's extension (package mime;
// application/octet-stream when unknown). Every response carries an ETag built from
// the file's size and modification time (strong, or weak with Config.WeakETags),
// Last-Modified and Accept-Ranges: bytes, plus Config.CacheControl when set.
//
//   - If-None-Match (weak comparison, "*" included) and, without it, If-Modified-Since
//     answer 304 Not Modified.
//   - Range: a single range is 206 with Content-Range; several are 206
//     multipart/byteranges; none satisfiable is 416 with Content-Range: bytes */size.
//     If-Range (a strong ETag or the exact Last-Modified date) that does not match
//     turns the response into the whole file. Ranges are ignored (200) when the header
//     does not parse, has more than 32 ranges or asks for more bytes than the file has.
//   - Precompressed siblings: for a request of "app.css" with Accept-Encoding allowing
//     it (q-values respected, "*" included, br preferred over gzip when equal), the
//     file "app.css.br" or "app.css.gz" is sent with Content-Encoding and the
//     Content-Type of "app.css". Responses for files with siblings carry
//     Vary: Accept-Encoding.
//   - Config.Index (e.g. "index.html") is served for a directory requested with a
//     trailing slash; the directory without the slash is redirected (301) to it. There
//     is no directory listing: a directory without an index is not found.
//
// Whole files and single ranges from a directory go out as http.response.pathsend when
// the scope's Extensions offer it, with the open file handed to the server (asgo sends
// it with sendfile on cleartext HTTP/1.1); otherwise, and for multiple ranges and
// fs.FS sources, the file is streamed in 64 KiB blocks (ranges with ReadAt). File
// requests run on the event loop when that is cheap and safe: see App.Inline.
//
// # Paths and safety
//
// The file path is the scope's route path (mount.RoutePath of RootPath and Path, as
// apps/mount sets them) below Config.Prefix. A path with a ".." or "." segment, a NUL
// or a backslash gets 404, and so does a path whose symlinks resolve outside the root
// directory. On Linux the directory source opens every file with one
// openat2(RESOLVE_BENEATH) relative to the root directory (opened once): the kernel
// refuses any resolution that leaves the root, and follows symlinks that stay inside.
// Only what it refuses (and every path where openat2 is missing) is resolved with
// filepath.EvalSymlinks and checked to stay below the root (resolved the same way),
// then opened: an absolute symlink that points inside the root is served that way.
// (On that careful path, a symlink swapped in between the check and the open by
// someone who can write to the served directory is not defended against.)
//
// A request under the prefix that names no file falls through to Config.Next when it
// is set, else gets 404; requests outside the prefix, WebSocket and lifespan scopes go
// to Next (without Next: 404, refused, unsupported). Next's asgi.Inliner and
// asgi.WebSocketEventer capabilities are passed on for the scopes it serves.
package static
