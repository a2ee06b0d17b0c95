# Sourced by the hushd benchmarks: nginx_return_conf WORK CONNS [EXTRA]
# writes WORK/nginx.conf, the baseline both compare hushd with: one
# worker answering WORK/cred from memory (`return 200`, access log off)
# on WORK/nginx.sock, with hushd's Content-Type and Cache-Control. EXTRA
# is one more main-context line (e.g. "master_process off;"). base64
# holds no '"', '\\' or '$', so the value goes into the return verbatim.
nginx_return_conf() {
	local work=$1 conns=$2 extra=${3:-} cred
	cred=$(cat "$work/cred")
	mkdir -p "$work/nginx"
	cat > "$work/nginx.conf" <<EOF
worker_processes 1;
$extra
user root root;  # the work directory is private (0700)
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections $conns; }
http {
	access_log off;
	client_body_temp_path $work/nginx;
	proxy_temp_path $work/nginx;
	fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx;
	scgi_temp_path $work/nginx;
	keepalive_requests 1000000;
	server {
		listen unix:$work/nginx.sock;
		default_type application/octet-stream;
		add_header Cache-Control no-store;
		location = /v1/credentials/bench {
			return 200 "$cred";
		}
	}
}
EOF
}
