# Runs inside the archery stand-in's build chroot after apt-get install.
mkdir -p /opt/archery/downloads /opt/archery/logs /opt/archery/keys /opt/archery/sql/migrations /opt/archery/docs
python3 -c 'import pymysql' # the mysql check needs it
