#!/bin/sh
# The ZFS side of a host's state in one process tree.  Arguments: "-n NAME" (a named dataset),
# "-r ROOT" (a tree: ROOT and its children), "-m DIR" (the tree of the dataset mounted on DIR),
# "-a NAME" (`zfs allow` of NAME), "-A" (`zfs allow` of every child of the trees).
# Sections: "@@root DIR DATASET", "@@get", "@@mounts" (dataset<TAB>mountpoint),
# "@@stat" (uid:gid:mode<TAB>mountpoint), "@@allow".
# The `props=` line is the list of properties read; providers/hoststate.py checks it against
# providers/zfs/facts.py READ_PROPERTIES when it loads this file.
nl='
'; tab=$(printf '\t'); names=; roots=; dirs=; allow=; allkids=
while [ $# -gt 0 ]; do
  case $1 in
    -n) names="$names$2$nl"; shift ;;
    -r) roots="$roots$2$nl"; shift ;;
    -m) dirs="$dirs$2$nl"; shift ;;
    -a) allow="$allow$2$nl"; shift ;;
    -A) allkids=1 ;;
  esac; shift
done
IFS=$nl
for d in $dirs; do
  while IFS=' ' read -r dev mp fs _; do
    [ "$fs" = zfs ] && [ "$mp" = "$d" ] && { printf '@@root %s %s\n' "$d" "$dev"; roots="$roots$dev$nl"; }
  done </proc/self/mounts
done
echo @@get
props=type,mountpoint,readonly,encryption,quota,compression,recordsize,atime
got=
[ -n "$names" ] && got=$(zfs get -H -p -o name,property,value,source "$props" $names 2>/dev/null)
[ -n "$roots" ] && got="$got$nl$(zfs get -H -p -o name,property,value,source -d 1 -t filesystem,volume "$props" $roots 2>/dev/null)"
printf '%s\n' "$got"
known=$(printf '%s\n' "$got" | while IFS=$tab read -r n p _; do [ "$p" = type ] && printf '%s\n' "$n"; done)
echo @@mounts
mps=
while IFS=' ' read -r dev mp fs _; do
  [ "$fs" = zfs ] || continue
  case "$nl$known$nl" in *"$nl$dev$nl"*) printf '%s\t%s\n' "$dev" "$mp"; mps="$mps$mp$nl" ;; esac
done </proc/self/mounts
echo @@stat
[ -n "$mps" ] && stat -c "%u:%g:%a$tab%n" -- $mps 2>/dev/null
echo @@allow
if [ -n "$allkids" ]; then
  for n in $known; do for r in $roots; do [ "${n%/*}" = "$r" ] && [ "$n" != "$r" ] && { allow="$allow$n$nl"; break; }; done; done
fi
for n in $allow; do zfs allow "$n" 2>/dev/null; done
true
