# Runs inside the mysql stand-in's build chroot after apt-get install.
# The package's postinst initialised /var/lib/mysql: the image ships it empty (the entrypoint
# initialises it on first start, like the official image).
find /var/lib/mysql -mindepth 1 -delete
mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d
chown mysql:mysql /var/lib/mysql /run/mysqld
chmod 1777 /run/mysqld
# Listen on every address (Debian's default config binds 127.0.0.1 only).
sed -i -e 's/^\([[:space:]]*bind-address\)/#\1/' /etc/mysql/mariadb.conf.d/50-server.cnf
chmod 755 /usr/local/bin/docker-entrypoint.sh
# /etc/mysql/my.cnf is an alternatives symlink in Debian: make it a plain file so a file mounted
# there (the compose file mounts one) replaces it whatever the runtime does with symlinks.
cp --remove-destination "$(readlink -f /etc/mysql/my.cnf)" /etc/mysql/my.cnf
