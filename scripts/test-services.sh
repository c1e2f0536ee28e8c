#!/usr/bin/env bash
# Makes sure MariaDB runs on 127.0.0.1:3306 with the test account the suite uses
# (userprobe_test / userprobe_test, allowed to create its own databases).
set -euo pipefail
say() { printf '[services] %s\n' "$*" >&2; }

db_up() { (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; }

if ! db_up; then
  if ! [ -x /usr/sbin/mariadbd ]; then
    say "installing mariadb-server (about 15 s)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  fi
  say "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do db_up && break; sleep 0.5; done
  db_up || { say "MariaDB did not start listening on 127.0.0.1:3306"; exit 1; }
fi

# The packet-loss drill drops packets with nftables inside a network namespace of its own.
if ! command -v nft >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing nftables (for the packet-loss drill)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null
fi

mariadb -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'userprobe_test'@'127.0.0.1' IDENTIFIED BY 'userprobe_test';
CREATE USER IF NOT EXISTS 'userprobe_test'@'localhost' IDENTIFIED BY 'userprobe_test';
GRANT ALL PRIVILEGES ON *.* TO 'userprobe_test'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'userprobe_test'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS userprobe_test;
SQL
say "MariaDB ready"
