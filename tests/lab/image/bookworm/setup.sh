#!/bin/sh
# Provisioning of the Debian bookworm image (app, db and aio hosts), run once
# per image build; what every kind shares is in common/base.sh. Everything
# that is the same on every lab host is done here, so that creating a host
# only writes its own identity and role files.
set -eu
R=/tmp/spse-lab-recipe
INIT_PYTHON=/usr/bin/python3
FILE_STORE=/home/file/file_prod
FILE_DIRS="/home/file $FILE_STORE /home/file/file_latihan"
. "$R/common/base.sh"

# The MTA came in as a dependency of mod_evasive; SPSE servers do not run one here.
update-rc.d exim4 disable >/dev/null

install -m 0755 "$R/bookworm/spse4.init" /etc/init.d/spse4
update-rc.d spse4 defaults >/dev/null

# Apache: reverse proxy to the application, HTTPS, mod_security, mod_evasive.
spse_apache_conf '${APACHE_LOG_DIR}/spse_error.log' '${APACHE_LOG_DIR}/spse_access.log' \
    /etc/ssl/certs/spse.crt /etc/ssl/private/spse.key >/etc/apache2/sites-available/spse.conf
printf 'ServerName localhost\n' >/etc/apache2/conf-available/servername.conf
cp /etc/modsecurity/modsecurity.conf-recommended /etc/modsecurity/modsecurity.conf
a2enmod -q ssl proxy proxy_http headers rewrite security2 evasive
a2dissite -q 000-default
a2ensite -q spse
a2enconf -q servername

# PostgreSQL: the SPSE database, loaded once; each host copies it to its volume.
cat >>/etc/postgresql/15/main/pg_hba.conf <<'CONF'
# SPSE application servers
host    epns_prod       epns            198.18.0.0/24           scram-sha-256
host    epns_lat        epns            198.18.0.0/24           scram-sha-256
CONF
pg_ctlcluster 15 main start
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -f "$R/common/epns.sql"
pg_ctlcluster 15 main stop
rm -rf /var/lib/postgresql/15/main/log /var/log/postgresql/*.log

apt-get clean
