#!/usr/bin/env bash
# The demo: an example account mounted at ./mnt, an accidental delete, the
# document found in history and restored by copying. Safe to run again.
set -eu
cd "$(dirname "$0")/.."
STORE=examples/account
MEDIA=examples/media
RESTORED=examples/restored
MNT=mnt
PITR=bin/pitr
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

for m in "$MNT" mnt-restored; do
	if mountpoint -q "$m" 2>/dev/null; then
		fusermount3 -u "$m"
		sleep 0.5
	fi
done
rm -rf "$STORE" "$MEDIA" "$RESTORED"
mkdir -p "$MNT" "$MEDIA"

say "create an account and mount it"
run "$PITR" create "$STORE" --retention 7d
run bin/pitrfs -o xattr --backup-dir "$MEDIA" "$STORE" "$MNT"

say "load the example databases: cp -a examples/data/. $MNT/"
cp -a examples/data/. "$MNT/"
run ls "$MNT" "$MNT/shop"
run ls "$MNT/shop/orders"

say "an update, then an accidental delete"
sleep 1
BEFORE=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
sleep 1
run sed -i 's/"status": "[a-z]*"/"status": "refunded"/' "$MNT/shop/orders/order-1001.json"
run rm "$MNT/shop/orders/order-1002.json"
run ls "$MNT/shop/orders"

say "the account as it was at $BEFORE"
run ls -l "$MNT/@$BEFORE/shop/orders/"
run cat "$MNT/@$BEFORE/shop/orders/order-1002.json"
run diff -r "$MNT/@$BEFORE/shop" "$MNT/shop" || true

say "restore the deleted document by copying it back"
run cp -a "$MNT/@$BEFORE/shop/orders/order-1002.json" "$MNT/shop/orders/"
run jq -c '{id, status, total}' "$MNT/shop/orders/order-1002.json"
run stat -c "%n  %s bytes, version of %y" "$MNT/shop/orders/order-1002.json"

say "or restore the whole database as it was into a new account"
run "$PITR" restore "$STORE" "$RESTORED" --at "$BEFORE" --database shop
mkdir -p mnt-restored
bin/pitrfs "$RESTORED" mnt-restored
run ls mnt-restored/shop/orders
fusermount3 -u mnt-restored
rmdir mnt-restored

say "what happened, from the account's history"
run "$PITR" log "$STORE" shop/orders/order-1002.json
run "$PITR" diff "$STORE" "$BEFORE" -0s

say "the account, and its backup media"
run "$PITR" backup "$STORE" flush
run "$PITR" backup "$STORE" status
run "$PITR" info "$STORE"

cat <<MSG

The account is mounted at ./$MNT. Try:
  ls $MNT/shop/orders                      the live account
  ls $MNT/@$BEFORE/shop/orders
  cat $MNT/@-1m/shop/orders/order-1001.json   as it was a minute ago
  bin/pitr info $STORE
Unmount with:  fusermount3 -u $MNT
MSG
