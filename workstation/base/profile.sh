# Keystone: every login shell on this host reads this (managed by keystone:base.files).
umask 027
