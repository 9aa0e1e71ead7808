# Image-wide provisioning shared by every host kind, sourced by the kind's
# setup.sh (which runs chrooted into the new root file system, in its own
# mount, PID and network namespaces with lo up). It expects R (the recipe
# folder), INIT_PYTHON (the interpreter PID 1 runs on), FILE_STORE (where
# SPSE keeps uploaded files on this kind of host) and FILE_DIRS (the folders
# to make for them, owned by appserv).
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

# Identity comes per host: no build-time host keys or machine-id.
rm -f /etc/ssh/ssh_host_* /etc/machine-id /var/lib/dbus/machine-id
printf '# lab hosts have no DNS server: names are in /etc/hosts\n' >/etc/resolv.conf
ln -sf ../proc/self/mounts /etc/mtab
ln -sf /usr/share/zoneinfo/Asia/Jakarta /etc/localtime
echo Asia/Jakarta >/etc/timezone
{ echo "#!$INIT_PYTHON"; tail -n +2 "$R/common/init"; } >/sbin/init
chmod 0755 /sbin/init

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
    -e 's/^#\?ChallengeResponseAuthentication .*/ChallengeResponseAuthentication no/' \
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
# chronyd must never steer the clock of the kernel it shares with the lab.
sed -i 's/^DAEMON_OPTS=.*/DAEMON_OPTS="-F 1 -x"/' /etc/default/chrony
grep -q '^DAEMON_OPTS="-F 1 -x"' /etc/default/chrony
# Its source: the lab's time server on the bridge (labctl, lab_timeserver.py), 198.18.0.1.
sed -i 's/^pool .*/server 198.18.0.1 iburst/' /etc/chrony/chrony.conf
grep -q '^server 198.18.0.1 iburst' /etc/chrony/chrony.conf

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
install -m 0644 "$R/common/standin_app.py" "$A/webapp/standin_app.py"
install -m 0755 "$R/common/spse4" "$A/spse4"
chown -R appserv:appserv "$A"

# Uploaded files (each app host mounts its own volume over this directory).
install -d -o appserv -g appserv $FILE_DIRS
printf '%%PDF-1.4\n%% dokumen penawaran contoh\n' >"$FILE_STORE/penawaran_000123.pdf"
printf 'Dokumen pengadaan contoh\n' >"$FILE_STORE/dokumen_lelang_2024.txt"
chown appserv:appserv "$FILE_STORE"/*

# spse.conf for Apache, from the one template: ERROR_LOG ACCESS_LOG CERT KEY.
spse_apache_conf() {
    sed -e '/^# (lab template/d' -e "s|@ERROR_LOG@|$1|" -e "s|@ACCESS_LOG@|$2|" \
        -e "s|@CERT@|$3|" -e "s|@KEY@|$4|" -e "s|@FILE_STORE@|$FILE_STORE|g" \
        "$R/common/apache-spse.conf" >/tmp/spse.conf
    if grep -n @ /tmp/spse.conf >&2; then echo 'spse.conf: unfilled placeholder' >&2; exit 1; fi
    cat /tmp/spse.conf && rm /tmp/spse.conf
}
