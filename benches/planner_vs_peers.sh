#!/usr/bin/env bash
# Side by side on this machine: jemput's planner against VROOM, PyVRP and OR-Tools
# (../shared/bench/solve_peers.py), every plan scored by ../shared/bench/evaluate.py.
#
#   bash benches/planner_vs_peers.sh [TIME_LIMIT ...]          (default: 10)
#
# Instances: ../shared/bench/instances/jb200-s1.json and gen_instance.py weeks of 200 sites
# (5 teams × 5 days) and 1,000 and 3,000 sites (8 teams × 6 days), seeds 1 2 3.
# Environment: PEERS_PY (default ~/.venvs/peers/bin/python; see ../shared/bench/README.md),
# SEEDS, SIZES, RESULTS (default var/bench/planner_vs_peers.md), ONLY=peers (run and cache the
# peers' results, e.g. while the machine is otherwise idle) or ONLY=jemput (use cached peer
# results). Runs are sequential so that no two solvers share the 2 cores; peer results are cached
# in var/bench/plans/NAME-LIMIT/peers.jsonl and reused (delete the file to re-run them).
set -euo pipefail
cd "$(dirname "$0")/.."
limits=("${@:-10}")
bench=${SHARED:-../shared}/bench
peers_py=${PEERS_PY:-$HOME/.venvs/peers/bin/python}
seeds=${SEEDS:-1 2 3}
sizes=${SIZES:-200 1000 3000}
results=${RESULTS:-var/bench/planner_vs_peers.md}
mkdir -p "$(dirname "$results")" var/bench/instances var/bench/plans
only=${ONLY:-}
if [ "$only" != peers ]; then cargo build --release --quiet; fi
bin=target/release/jemput

instances=("$bench/instances/jb200-s1.json")
for n in $sizes; do
  for s in $seeds; do
    f=var/bench/instances/gen$n-s$s.json
    if [ "$n" -le 200 ]; then t=5; d=5; else t=8; d=6; fi
    [ -f "$f" ] || python3 "$bench/gen_instance.py" --sites "$n" --teams "$t" --days "$d" --seed "$s" > "$f"
    instances+=("$f")
  done
done

if [ "$only" != peers ]; then
  echo "| instance | limit | jemput prize (travel s) | VROOM | PyVRP | OR-Tools | jemput ≥ best peer |" | tee "$results"
  echo "|---|---|---|---|---|---|---|" | tee -a "$results"
fi
for limit in "${limits[@]}"; do
  for inst in "${instances[@]}"; do
    name=$(basename "$inst" .json)
    cached=var/bench/plans/$name-$limit/peers.jsonl
    if [ ! -s "$cached" ] && [ "$only" != jemput ]; then
      mkdir -p "$(dirname "$cached")"
      "$peers_py" "$bench/solve_peers.py" "$inst" --time-limit "$limit" --plans-dir var/bench/plans/$name-$limit 2>/dev/null > "$cached.tmp"
      mv "$cached.tmp" "$cached"
    fi
    [ "$only" = peers ] && { echo "$name $limit s: peers done"; continue; }
    peers=$(cat "$cached" 2>/dev/null || true)
    plan=var/bench/plans/$name-jemput-$limit.json
    $bin solve --instance "$inst" --time-limit "$limit" --seed 1 > "$plan" 2> var/bench/plans/$name-jemput-$limit.log
    ours=$(python3 "$bench/evaluate.py" "$inst" "$plan")
    python3 - "$name" "$limit" "$ours" "$peers" <<'PY' | tee -a "$results"
import json, sys
name, limit, ours, peers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
by = {}
for line in peers.splitlines():
    line = line.strip()
    if line.startswith("{"):
        d = json.loads(line)
        by[d["solver"]] = d
def cell(d):
    if not d: return "n/a"
    mark = "" if d.get("feasible", True) else " INFEASIBLE"
    return f"{d['prize']:.1f} ({d['travel_s']}){mark}"
best = max([d["prize"] for d in by.values() if d.get("feasible")] or [0])
ok = ours["feasible"] and ours["prize"] >= best
print(f"| {name} | {limit} s | {cell(ours)} | {cell(by.get('vroom'))} | {cell(by.get('pyvrp'))} | {cell(by.get('ortools'))} | {'yes' if ok else 'NO'} ({ours['prize'] - best:+.1f}) |")
PY
  done
done
echo "results in $results"
