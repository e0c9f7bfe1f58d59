"""Coverage-guided fuzz targets (atheris) for every parser of untrusted input: host output (getent,
zfs, stat, birdc, bird -p, configure), ZeroTier answers and the stack settings.  Run them with
``bash fuzz/run.sh [SECONDS]`` (see README, Error handling)."""
