#!/bin/sh
# Runs three asgo instances (the demo app) sharing the chat's rooms through one
# redis-server, behind nginx on http://127.0.0.1:8100.
#
#   ./run.sh         serve until Ctrl-C
#   ./run.sh check   start, check that messages cross instances through nginx, stop
#
# Needs go, redis-server and nginx (Debian: redis-server nginx-light). Ports: PORT
# (nginx, default 8100), PORT+1 to PORT+3 (asgo), REDIS_PORT (default 6390).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
redis_port=${REDIS_PORT:-6390}
port=${PORT:-8100}
pids=""

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

(cd "$root" && go build -o "$work/asgo" ./cmd/asgo)

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --loglevel warning &
pids="$pids $!"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

for i in 1 2 3; do
    "$work/asgo" serve --bind "127.0.0.1:$((port + i))" --channel-layer "redis://127.0.0.1:$redis_port/0" \
        --instance-name "node-$i" --access-log=false 2>"$work/asgo-$i.log" &
    pids="$pids $!"
done
for i in 1 2 3; do
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$((port + i))/" && break; sleep 0.1; done
done

mkdir -p "$work/nginx/tmp"
sed -e "s/:8100;/:$port;/" -e "s/:8101;/:$((port + 1));/" -e "s/:8102;/:$((port + 2));/" -e "s/:8103;/:$((port + 3));/" \
    "$here/nginx.conf" >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids="$pids $!"
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

if [ "${1:-}" = check ]; then
    echo "pages through nginx (round robin):"
    for _ in 1 2 3; do
        curl -fs "http://127.0.0.1:$port/chat.html?room=demo" | grep -o 'id="instance">[^<]*' | sed 's/.*>/  served by /'
    done
    (cd "$root" && go run ./examples/cluster/check -url "ws://127.0.0.1:$port/chat?room=demo" -clients 9)
    exit 0
fi

echo "open http://127.0.0.1:$port/chat.html?room=lobby in several tabs (logs in $work); Ctrl-C stops"
wait
