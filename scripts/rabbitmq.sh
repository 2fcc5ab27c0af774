#!/usr/bin/env bash
# Starts or stops a loopback-only RabbitMQ broker for the AMQP endpoint tests.
#
#   scripts/rabbitmq.sh start   # install if missing, start, wait until ready
#   scripts/rabbitmq.sh stop    # stop it and wait until the process is gone
#
# Both are idempotent: start does nothing when something already listens on
# 127.0.0.1:5672 (the Debian package may have started a broker itself), stop
# does nothing when no broker is running. There is no init system on the
# machines, so the broker runs detached and is tracked through its pid file.
set -euo pipefail

PID_FILE=/tmp/rabbit.pid
ENV_CONF=/etc/rabbitmq/rabbitmq-env.conf
START_TIMEOUT=${RABBITMQ_START_TIMEOUT:-120}

listening() {
	# bash's /dev/tcp avoids depending on nc or ss being installed.
	(exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null
}

install() {
	if command -v rabbitmq-server >/dev/null 2>&1; then
		return
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq rabbitmq-server >/dev/null
}

configure() {
	# Loopback only: the node, epmd and Erlang distribution all bind 127.0.0.1.
	cat >"$ENV_CONF" <<'CONF'
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=5672
export ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
CONF
}

booting() {
	[[ -s $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

start() {
	install
	if listening; then
		echo "rabbitmq: already listening on 127.0.0.1:5672"
		return
	fi
	if ! booting; then
		configure
		RABBITMQ_PID_FILE=$PID_FILE rabbitmq-server -detached
	fi
	# await_startup fails at once while the node has not yet registered with
	# epmd, so it is retried until the deadline.
	local deadline=$((SECONDS + START_TIMEOUT))
	until rabbitmqctl -q await_startup --timeout 10 >/dev/null 2>&1 && listening; do
		if ((SECONDS >= deadline)); then
			echo "rabbitmq: not ready after ${START_TIMEOUT}s" >&2
			exit 1
		fi
		sleep 1
	done
	echo "rabbitmq: started"
}

stop() {
	if ! command -v rabbitmqctl >/dev/null 2>&1; then
		return
	fi
	if [[ ! -s $PID_FILE ]] && ! listening; then
		echo "rabbitmq: not running"
		return
	fi
	if [[ -s $PID_FILE ]]; then
		# With a pid file, stop waits until the broker process has exited.
		timeout 120 rabbitmqctl -q stop "$PID_FILE" || true
		rm -f "$PID_FILE"
	else
		timeout 120 rabbitmqctl -q stop || true
	fi
	echo "rabbitmq: stopped"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
