#!/bin/sh
# Provisioning of the legacy image: Debian bullseye laid out like a CentOS 7
# SPSE server, with Python 2.7 as its only Python. PostgreSQL 13 the PGDG
# way (binaries in /usr/pgsql-13/bin, cluster and configuration in
# /var/lib/pgsql/13/data, service postgresql-13), Apache the EL way
# (/etc/httpd, logs in /var/log/httpd, service httpd), SPSE started from
# /etc/rc.d/rc.local. What it does not imitate: tests/lab/README.md.
set -eu
R=/tmp/spse-lab-recipe
INIT_PYTHON=/usr/bin/python2.7
FILE_STORE=/home/file_prod
FILE_DIRS="$FILE_STORE /home/file_latihan"
. "$R/common/base.sh"

# Python 2.7 is the only Python, reachable by the names CentOS 7 gives it.
ln -s python2.7 /usr/bin/python2
ln -s python2 /usr/bin/python
if ls -d /usr/bin/python3* /usr/lib/python3* 2>/dev/null; then
    echo "legacy image: python3 must not be installed" >&2
    exit 1
fi

# --- PostgreSQL 13, PGDG layout. Debian's cluster, /etc/postgresql and its
# init script go; PGDG's binary folder holds hard links to the real binaries
# (a symlink would be resolved by pg_ctl, and ps would show Debian's path).
pg_dropcluster 13 main
update-rc.d -f postgresql remove >/dev/null
rm -rf /etc/postgresql /etc/init.d/postgresql /var/log/postgresql /var/lib/postgresql
install -d /usr/pgsql-13
cp -al /usr/lib/postgresql/13/bin /usr/pgsql-13/bin
ln -s /usr/lib/postgresql/13/lib /usr/pgsql-13/lib
ln -s /usr/share/postgresql/13 /usr/pgsql-13/share
for tool in psql pg_dump pg_dumpall pg_restore pg_basebackup pg_isready clusterdb createdb \
        createuser dropdb dropuser reindexdb vacuumdb; do  # PGDG's alternatives links
    ln -sf /usr/pgsql-13/bin/$tool /usr/bin/$tool
done
usermod -d /var/lib/pgsql postgres
install -d -m 0700 -o postgres -g postgres /var/lib/pgsql /var/lib/pgsql/13 /var/lib/pgsql/13/data \
    /var/lib/pgsql/13/backups
printf '[ -f /etc/profile ] && source /etc/profile\nPGDATA=/var/lib/pgsql/13/data\nexport PGDATA\n' \
    >/var/lib/pgsql/.bash_profile
chown postgres:postgres /var/lib/pgsql/.bash_profile
runuser -u postgres -- /usr/pgsql-13/bin/initdb -D /var/lib/pgsql/13/data --encoding=UTF8 \
    --locale=C.UTF-8 --auth-local=peer --auth-host=md5 >/dev/null
cat >/var/lib/pgsql/13/data/pg_hba.conf <<'CONF'
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             all                                     peer
host    all             all             127.0.0.1/32            md5
host    all             all             ::1/128                 md5
# SPSE application servers
host    epns_prod       epns            198.18.0.0/24           md5
host    epns_lat        epns            198.18.0.0/24           md5
CONF
cat >>/var/lib/pgsql/13/data/postgresql.conf <<'CONF'

# PGDG defaults of the EL packages
unix_socket_directories = '/var/run/postgresql, /tmp'
password_encryption = md5
CONF
install -m 0755 "$R/legacy/postgresql-13.init" /etc/init.d/postgresql-13
update-rc.d postgresql-13 defaults >/dev/null
service postgresql-13 start
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -f "$R/common/epns.sql"
service postgresql-13 stop
rm -rf /var/lib/pgsql/13/data/log /var/lib/pgsql/13/pgstartup.log

# --- Apache, EL layout, run by Debian's apache2 binary (as /usr/sbin/httpd).
useradd --system --home-dir /usr/share/httpd --no-create-home --shell /sbin/nologin apache
update-rc.d -f apache2 remove >/dev/null
update-rc.d -f apache-htcacheclean remove >/dev/null
rm -rf /etc/apache2 /etc/init.d/apache2 /etc/init.d/apache-htcacheclean /var/log/apache2 \
    /etc/modsecurity
ln -s apache2 /usr/sbin/httpd
install -d /etc/httpd /etc/httpd/conf /etc/httpd/conf.d /etc/httpd/conf.modules.d \
    /etc/pki/tls/certs /var/www/html /var/www/cgi-bin
install -d -m 0700 /etc/pki/tls/private /var/log/httpd
install -d -m 0700 -o apache -g apache /var/lib/mod_security
ln -s ../../usr/lib/apache2/modules /etc/httpd/modules
ln -s ../../var/log/httpd /etc/httpd/logs
ln -s /run/httpd /etc/httpd/run
install -m 0644 "$R/legacy/httpd.conf" /etc/httpd/conf/httpd.conf
install -m 0644 "$R/legacy/00-spse.conf" /etc/httpd/conf.modules.d/00-spse.conf
install -m 0644 "$R/legacy/ssl.conf" "$R/legacy/mod_security.conf" /etc/httpd/conf.d/
spse_apache_conf logs/spse_error_log logs/spse_access_log \
    /etc/pki/tls/certs/spse.crt /etc/pki/tls/private/spse.key >/etc/httpd/conf.d/spse.conf
install -m 0755 "$R/legacy/httpd.init" /etc/init.d/httpd
update-rc.d httpd defaults >/dev/null

# --- SPSE: started from rc.local, as LPSE admins do on CentOS 7.
install -d /etc/rc.d
install -m 0755 "$R/legacy/rc.local" /etc/rc.d/rc.local
ln -s rc.d/rc.local /etc/rc.local

apt-get clean
