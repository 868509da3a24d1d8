#!/usr/bin/env bash
# The demo: an example account mounted at ./mnt, an accidental delete, the
# document found in history and restored by copying. Safe to run again.
set -eu
cd "$(dirname "$0")/.."
STORE=examples/account
MNT=mnt
PITR=bin/pitr
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

if mountpoint -q "$MNT" 2>/dev/null; then
	fusermount3 -u "$MNT"
	sleep 0.5
fi
rm -rf "$STORE"
mkdir -p "$MNT"

say "create an account and mount it"
run "$PITR" create "$STORE" --retention 7d
run bin/pitrfs "$STORE" "$MNT"

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
run getfattr -d "$MNT/shop/orders/order-1002.json"

say "the account"
run "$PITR" info "$STORE"

cat <<MSG

The account is mounted at ./$MNT. Try:
  ls $MNT/shop/orders                      the live account
  ls $MNT/@$BEFORE/shop/orders
  cat $MNT/@-1m/shop/orders/order-1001.json   as it was a minute ago
  bin/pitr info $STORE
Unmount with:  fusermount3 -u $MNT
MSG
