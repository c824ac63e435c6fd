// Package scopedump is the reference app that answers with its request scope as JSON,
// the way uvicorn's scope looks from Python: byte fields (raw_path, query_string, header
// names and values) are rendered as strings, one character per byte (latin-1), not as
// base64; client and server are [host, port] pairs; state is the sorted list of its keys;
// extensions are rendered as JSON renders their values (ASGI's tls extension over TLS:
// server_cert, client_cert_chain as PEM strings, tls_version and cipher_suite as numbers).
//
//	{"type":"http","asgi":{"version":"3.0","spec_version":"2.4"},"http_version":"1.1",
//	 "method":"GET","scheme":"http","path":"/scope","raw_path":"/scope","query_string":"",
//	 "root_path":"","headers":[["host","localhost"]],"client":["127.0.0.1",40000],
//	 "server":["127.0.0.1",8000],"state":[],"extensions":{"http.response.trailers":{}}}
package scopedump
