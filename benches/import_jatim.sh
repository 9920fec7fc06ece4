#!/usr/bin/env bash
# Benchmark: import every desa/kelurahan of Jawa Timur (8,494 rows of the 9,532 in
# ../shared/data/wilayah/desa_kelurahan.csv; the 1,038 Kalimantan Timur rows are skipped by
# --within 35) into a fresh SQLite database. Parents (provinsi, kabupaten/kota, kecamatan) are
# imported first and not timed. Prints every run and the median in milliseconds.
#
#   bash benches/import_jatim.sh [RUNS]        (default 7; builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
wilayah="${WILAYAH_DIR:-../shared/data/wilayah}"
cargo build --release --quiet
bin=target/release/jemput
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export JEMPUT__LOG__LEVEL=warn
times=()
for i in $(seq 1 "$runs"); do
  export JEMPUT__DATABASE__URL="sqlite://$tmp/run$i.db"
  $bin migrate >/dev/null
  for f in provinsi kabupaten_kota kecamatan; do
    $bin import regions "$wilayah/$f.csv" --within 35 >/dev/null
  done
  start=$(date +%s%N)
  out=$($bin import regions "$wilayah/desa_kelurahan.csv" --within 35)
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  echo "run $i: ${ms} ms  ($out)"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median of $runs runs: ${median} ms (whole process: start, parse 9,532 rows, insert 8,494, commit)"
