#!/usr/bin/env bash
# How often a sweep point's 95 % CI holds the true mean start-up (README, "Statistics").
#
# The reference is the mean of 20,000 replications (seed 424242; its own CI is about ±0.05 s).
# Then N independent sweeps (seeds 1..N) of REPS replications each are run at the same point,
# and the script counts the CIs that hold the reference. Every sweep writes to a temporary
# directory, removed at the end.
#
# Run from the repository root after `cargo build --release`:
#     bash docs/scripts/ci-coverage.sh [REPS [N]]      # defaults 10 and 1000; ~4 min
set -euo pipefail
kubetwin=${KUBETWIN:-target/release/kubetwin}
reps=${1:-10}
n=${2:-1000}
point=(thesis-2019 --pods 20 --delay 300ms)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Columns of results.csv: pods,delay_ms,reps,incomplete,seed,startup_mean_s,lo,hi,...
ref=$("$kubetwin" sweep "${point[@]}" --reps 20000 --seed 424242 --out "$tmp/ref" --format csv 2>/dev/null |
    sed -n 2p | cut -d, -f6)
hit=0
for s in $(seq 1 "$n"); do
    row=$("$kubetwin" sweep "${point[@]}" --reps "$reps" --seed "$s" --out "$tmp/s$s" --format csv 2>/dev/null |
        sed -n 2p)
    lo=$(echo "$row" | cut -d, -f7)
    hi=$(echo "$row" | cut -d, -f8)
    if awk -v lo="$lo" -v hi="$hi" -v r="$ref" 'BEGIN { exit !(lo <= r && r <= hi) }'; then
        hit=$((hit + 1))
    fi
    rm -rf "$tmp/s$s"
done
printf "reference mean %.3f s; %s replications: %s of %s CIs hold it\n" "$ref" "$reps" "$hit" "$n"
