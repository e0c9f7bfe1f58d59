#!/usr/bin/env bash
# Builds Keystone's test guest from Debian's packages: bookworm, a stock kernel,
# OpenZFS (zfs-dkms from contrib, compiled here for the guest's kernel),
# openssh-server and bird2.  Output, in OUT (made atomically):
#   root.raw        ext4 root filesystem image (read-only base for overlays)
#   vmlinuz, initrd.img
#   id_ed25519      root's SSH key for the guest;  known_hosts: the guest's host key
#   kernel-version
# Usage: guest/build-image.sh OUT
# The Debian mirror is the one this machine's apt already uses.
set -euo pipefail
out=${1:?usage: build-image.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
work="$out.building"
root="$work/root"

log() { printf '[guest-build %s] %s\n' "$(date +%T)" "$*" >&2; }

cleanup() {
  for m in dev/pts dev proc sys; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m" || true
  done
}
trap cleanup EXIT

mirror=$(python3 "$here/apt_mirrors.py" debian)
security=$(python3 "$here/apt_mirrors.py" debian-security)

rm -rf "$work"
mkdir -p "$work"

log "debootstrap (minbase) from the host's Debian mirror"
debootstrap --variant=minbase \
  --include=systemd-sysv,udev,dbus,iproute2,openssh-server,kmod,passwd,login,sudo,ca-certificates,procps,less \
  bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -40 "$work/debootstrap.log"; exit 1; }

mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main contrib
deb $mirror bookworm-updates main contrib
deb $security bookworm-security main contrib
SRC

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
apt_install() { in_root apt-get install -y -q --no-install-recommends "$@" >>"$work/apt.log" 2>&1 \
  || { tail -60 "$work/apt.log"; exit 1; }; }

in_root apt-get update -q >>"$work/apt.log" 2>&1
log "kernel"
apt_install linux-image-amd64 linux-headers-amd64 initramfs-tools
kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
log "guest kernel $kver; OpenZFS userland, bird2, logind sessions for SSH logins (libpam-systemd), git, build tools"
apt_install zfsutils-linux bird2 dkms build-essential libpam-systemd git
log "zfs-dkms (compiles the module for $kver: the slow step)"
apt_install zfs-dkms
in_root dkms autoinstall -k "$kver" >>"$work/apt.log" 2>&1 || true
in_root modinfo -k "$kver" zfs >/dev/null || { echo "zfs module missing for $kver" >&2; exit 1; }

log "keep the built modules, drop the compiler, headers and unused drivers"
mkdir -p "$work/ko"
find "$root/lib/modules/$kver/updates" -name '*.ko*' -exec cp {} "$work/ko/" \;
in_root apt-get purge -y -q zfs-dkms dkms build-essential 'linux-headers-*' 'gcc-12' 'cpp-12' >>"$work/apt.log" 2>&1
in_root apt-get autoremove --purge -y -q >>"$work/apt.log" 2>&1
mkdir -p "$root/lib/modules/$kver/updates/keystone"
cp "$work/ko/"* "$root/lib/modules/$kver/updates/keystone/"
for d in drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging \
         drivers/bluetooth drivers/usb drivers/hid drivers/input/touchscreen sound net/wireless \
         net/bluetooth net/mac80211 drivers/scsi/lpfc drivers/scsi/qla2xxx drivers/net/ethernet; do
  rm -rf "$root/lib/modules/$kver/kernel/$d"
done
in_root depmod -a "$kver"
in_root modinfo -k "$kver" zfs >/dev/null

log "configure: network, ssh, services"
# The hostname and address are the guest's own; QEMU's user network is 10.0.2.0/24.
echo keystone-guest >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 keystone-guest\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 defaults,noatime 0 1\n' >"$root/etc/fstab"
cat >"$root/etc/systemd/network/10-virtio.network" <<NET
[Match]
Name=en* eth*
[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
LinkLocalAddressing=no
IPv6AcceptRA=no
NET
in_root systemctl enable systemd-networkd >/dev/null 2>&1
for unit in systemd-networkd-wait-online.service zfs-import-cache.service zfs-import-scan.service \
            systemd-udev-settle.service zfs-zed.service apt-daily.timer apt-daily-upgrade.timer \
            e2scrub_all.timer fstrim.timer man-db.timer zfs-share.service; do
  in_root systemctl disable "$unit" >/dev/null 2>&1 || true
  in_root systemctl mask "$unit" >/dev/null 2>&1 || true
done
cp "$here/sshd_keystone.conf" "$root/etc/ssh/sshd_config.d/keystone.conf"
ssh-keygen -q -t ed25519 -N '' -C keystone-test-admin -f "$work/id_ed25519"
install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$work/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C keystone-guest -f "$root/etc/ssh/ssh_host_ed25519_key"
printf 'keystone-guest %s\n' "$(cut -d' ' -f1-2 "$root/etc/ssh/ssh_host_ed25519_key.pub")" >"$work/known_hosts"
echo 'zfs' >"$root/etc/modules-load.d/zfs.conf"
# Root's password stays locked: the guest is reached by key only.

log "initramfs with the virtio drivers only"
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' >>"$root/etc/initramfs-tools/modules"
in_root update-initramfs -u -k "$kver" >>"$work/apt.log" 2>&1
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
echo "$kver" >"$work/kernel-version"

rm -f "$root/usr/sbin/policy-rc.d"
in_root apt-get clean
rm -rf "$root/var/lib/apt/lists/"* "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale"
cleanup
trap - EXIT

log "root filesystem image"
mke2fs -q -t ext4 -L keystone-root -d "$root" "$work/root.raw" 3G
rm -rf "$root" "$work/ko"
rm -rf "$out"
mv "$work" "$out"
log "done: $out"
