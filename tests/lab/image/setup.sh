#!/bin/sh
# Image-wide provisioning, run once per image build chrooted into the new
# root file system (own mount, PID and network namespaces; lo is up).
# Everything that is the same on every lab host is done here, so that
# creating a host only writes its own identity and role files.
set -eu
R=/tmp/spse-lab-recipe
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

# Identity comes per host: no build-time host keys or machine-id.
rm -f /etc/ssh/ssh_host_* /etc/machine-id /var/lib/dbus/machine-id
printf '# lab hosts have no DNS server: names are in /etc/hosts\n' >/etc/resolv.conf
ln -sf ../proc/self/mounts /etc/mtab
ln -sf /usr/share/zoneinfo/Asia/Jakarta /etc/localtime
echo Asia/Jakarta >/etc/timezone
install -m 0755 "$R/init" /sbin/init

# Accounts: ansible (key-only, passwordless sudo) and the application user.
useradd --create-home --shell /bin/bash --password '*' ansible
install -d -m 0700 -o ansible -g ansible /home/ansible/.ssh
printf 'ansible ALL=(ALL:ALL) NOPASSWD: ALL\n' >/etc/sudoers.d/ansible
chmod 0440 /etc/sudoers.d/ansible
useradd --create-home --shell /bin/bash --password '*' appserv

# Hardening an LPSE admin would have done.
sed -i \
    -e 's/^#\?PasswordAuthentication .*/PasswordAuthentication no/' \
    -e 's/^#\?KbdInteractiveAuthentication .*/KbdInteractiveAuthentication no/' \
    -e 's/^#\?PermitRootLogin .*/PermitRootLogin prohibit-password/' \
    -e 's/^#\?UseDNS .*/UseDNS no/' \
    /etc/ssh/sshd_config
grep -q '^PasswordAuthentication no' /etc/ssh/sshd_config
cat >/etc/sysctl.d/90-spse.conf <<'CONF'
# SPSE tuning (database and application server)
vm.swappiness = 10
net.core.somaxconn = 1024
net.ipv4.tcp_keepalive_time = 600
fs.file-max = 262144
CONF
cat >/etc/security/limits.d/90-spse.conf <<'CONF'
# Play opens many files and sockets
appserv soft nofile 65536
appserv hard nofile 65536
appserv soft nproc 8192
appserv hard nproc 8192
CONF
cat >/etc/cron.d/spse-backup <<'CONF'
# Nightly database backup (SPSE SOP)
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
30 1 * * * postgres pg_dump -Fc epns_prod > /var/backups/epns_prod.dump
CONF
# The MTA came in as a dependency of mod_evasive; SPSE servers do not run one here.
update-rc.d exim4 disable >/dev/null
# chronyd must never steer the clock of the kernel it shares with the lab.
sed -i 's/^DAEMON_OPTS=.*/DAEMON_OPTS="-F 1 -x"/' /etc/default/chrony

# A JDK marker only: the stand-in application is Python.
install -d /usr/local/src/jdk1.8.0
printf 'JAVA_VERSION="1.8.0_202"\nOS_NAME="Linux"\nOS_ARCH="amd64"\nSOURCE=""\n' \
    >/usr/local/src/jdk1.8.0/release

# The SPSE application tree (application.conf is written per host).
A=/home/appserv/spse
install -d -o appserv -g appserv "$A" "$A/framework" "$A/framework/framework" \
    "$A/framework/modules" "$A/webapp" "$A/webapp/conf" "$A/webapp/app" \
    "$A/webapp/app/controllers" "$A/webapp/lib" "$A/webapp/logs" "$A/webapp/public"
printf '1.3.3\n' >"$A/framework/VERSION"
: >"$A/framework/framework/play-1.3.3.jar"
printf '# Routes\nGET     /                                       BerandaCtr.index\n' \
    >"$A/webapp/conf/routes"
printf 'package controllers;\n\npublic class BerandaCtr extends BasicCtr {}\n' \
    >"$A/webapp/app/controllers/BerandaCtr.java"
install -m 0644 "$R/standin_app.py" "$A/webapp/standin_app.py"
install -m 0755 "$R/spse4" "$A/spse4"
chown -R appserv:appserv "$A"
install -m 0755 "$R/spse4.init" /etc/init.d/spse4
update-rc.d spse4 defaults >/dev/null

# Uploaded files (each app host mounts its own volume over this directory).
install -d -o appserv -g appserv /home/file /home/file/file_prod /home/file/file_latihan
printf '%%PDF-1.4\n%% dokumen penawaran contoh\n' >/home/file/file_prod/penawaran_000123.pdf
printf 'Dokumen pengadaan contoh\n' >/home/file/file_prod/dokumen_lelang_2024.txt
chown appserv:appserv /home/file/file_prod/*

# Apache: reverse proxy to the application, HTTPS, mod_security, mod_evasive.
install -m 0644 "$R/apache-spse.conf" /etc/apache2/sites-available/spse.conf
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
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -f "$R/epns.sql"
pg_ctlcluster 15 main stop
rm -rf /var/lib/postgresql/15/main/log /var/log/postgresql/*.log

apt-get clean
