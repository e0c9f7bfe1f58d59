#!/bin/sh
# The reads a host's base declaration names (providers/hostbase/declaration.py), in one process tree,
# read-only.  Arguments: DECLARATION (its path), GLOB (the budget drop-ins' pattern), then the texts of
# the ZFS read ("-": not here, the caller reads ZFS itself), the file read and the base gather.
# Output, each part's lines after its "@@part NAME" line, then "@@end":
#   declaration: the declaration as it is (nothing when the host has none);
#   zfs: the ZFS read of the declared home tree with its delegations (-r TREE -A);
#   files: the file read, as root, of every match of GLOB and of every declared file;
#   base: the base gather with the declared arguments (nothing without a declaration).
set -f
decl=$1 glob=$2 zfs=$3 read=$4 gather=$5
kubelogin=- timer=- homes=- backups=- tree='' packages='' found=''
set --
echo "@@part declaration"
if [ -f "$decl" ]; then
  found=1
  while IFS= read -r line; do
    printf '%s\n' "$line"
    kind=${line%% *} value=${line#* }
    case $kind in
      kubelogin) kubelogin=$value ;;
      timer) timer=$value ;;
      backup) homes=${value%% *} backups=${value#* } ;;
      tree) tree=$value ;;
      package) packages="$packages $value" ;;
      file) set -- "$@" "$value" ;;
    esac
  done <"$decl"
fi
echo "@@part zfs"
if [ "$zfs" != - ] && [ -n "$tree" ]; then sh -c "$zfs" keystone-zfs -r "$tree" -A; fi
echo "@@part files"
set +f
# shellcheck disable=SC2086  # the pattern is expanded on purpose (no match: itself, read as absent)
set -- $glob "$@"
set -f
sh -c "$read" keystone-read "$@"
echo "@@part base"
if [ -n "$found" ]; then
  # shellcheck disable=SC2086  # the package names (checked Debian names, no blanks) are split on purpose
  sh -c "$gather" keystone-base "$kubelogin" "$timer" "$homes" "$backups" $packages
fi
echo "@@end"
