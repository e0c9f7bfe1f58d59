"""OS accounts (``os:Account``): useradd/usermod/userdel, groups, shell, keys, locked passwords."""
