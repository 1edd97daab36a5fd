#!/bin/sh
# Runs nginx in the foreground on loopback for the HTTP client tests and benchmarks:
#   nginx_http.sh DIR PORT [TLSPORT]
# Serves DIR/www (hello.txt and whatever the caller put there), gzip on for text, redirects
# (/moved → /hello.txt, /loop → itself, /chain/N), a slow location (/slow/, 1 KiB/s), and with
# TLSPORT, the same over TLS with DIR/srv.pem and DIR/srv.key (made by the caller). With
# ECHO_PORT set, paths that are not files go to http_echo.py on that port, on both ports (the
# lab does this; the HTTP client tests reach the echo server over HTTPS so).
set -e
dir=$1; port=$2; tlsport=$3
mkdir -p "$dir/www" "$dir/tmp"
chmod 755 "$dir" "$dir/www"
[ -f "$dir/www/hello.txt" ] || printf 'hello, world\n' > "$dir/www/hello.txt"
chmod -R a+r "$dir/www"
tls=""
fallback=""
if [ -n "${ECHO_PORT:-}" ]; then
  fallback="location / { try_files \$uri @echo; } location @echo { proxy_pass http://127.0.0.1:$ECHO_PORT; proxy_http_version 1.1; proxy_buffering off; }"
fi
if [ -n "$tlsport" ]; then
  chmod a+r "$dir/srv.pem" "$dir/srv.key"
  tls="server { listen 127.0.0.1:$tlsport ssl http2; ssl_certificate $dir/srv.pem; ssl_certificate_key $dir/srv.key; root $dir/www; location = /moved { return 301 /hello.txt; } $fallback }"
fi
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy; fastcgi_temp_path $dir/tmp/fcgi;
  uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  types { text/plain txt; text/html html; application/json json; application/octet-stream bin; }
  default_type application/octet-stream;
  sendfile on; tcp_nopush on;
  keepalive_requests 100000;
  gzip on; gzip_min_length 0; gzip_types text/plain application/json;
  server {
    listen 127.0.0.1:$port;
    root $dir/www;
    location = /moved { return 301 /hello.txt; }
    location = /loop { return 302 /loop; }
    location ~ ^/chain/([0-9]+)$ { return 302 /chain-next/\$1; }
    location ~ ^/chain-next/ { return 302 /hello.txt; }
    location /slow/ { limit_rate 1k; limit_rate_after 1k; }
    $fallback
  }
  $tls
}
CONF
exec nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
