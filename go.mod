module github.com/asgo-dev/asgo

go 1.26.8

require (
	github.com/andybalholm/brotli v1.3.0
	github.com/gobwas/httphead v0.1.0
	github.com/gobwas/ws v1.5.0
	github.com/klauspost/compress v1.18.2
	github.com/panjf2000/gnet/v2 v2.10.0
	github.com/redis/rueidis v1.0.80
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/panjf2000/ants/v2 v2.12.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)
