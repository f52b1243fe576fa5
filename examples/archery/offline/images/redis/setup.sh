# Runs inside the redis stand-in's build chroot after apt-get install.
mkdir -p /data
chown redis:redis /data
# Debian's package wants /etc/redis/redis.conf with daemonize and a local bind; the image (like the
# official one) runs redis-server with built-in defaults unless given a config file.
chmod 755 /usr/local/bin/docker-entrypoint.sh
