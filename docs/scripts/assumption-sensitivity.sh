#!/usr/bin/env bash
# How much the shipped calibration's predictions depend on assumptions the four thesis corners
# cannot check (docs/validation.md, "Assumptions the data cannot check").
#
# For each variant, one assumed default of the thesis-2019 scenario is changed, the two
# calibrated parameters are refitted to the four corners (workers-egress, the shipped
# calibration's placement; 30 replications, seed 1), and the nine cells of the thesis grid are
# simulated with the refitted parameters (30 replications). Prints one Markdown row per
# variant: the refit, its RMS error, the four corners, then the five held-out cells.
#
# Run from the repository root, with ../shared beside it, after `cargo build --release`:
#     bash docs/scripts/assumption-sensitivity.sh [OUT_DIR]
set -euo pipefail
kubetwin=${KUBETWIN:-target/release/kubetwin}
data=../shared/data/thesis-2019/pod-startup-calibration.csv
scenario=topologies/scenarios/thesis-2019.toml
out=${1:-assumption-sensitivity}
mkdir -p "$out"

# name|sed expression(s) on the scenario file (each must match exactly one line)
variants=(
  'as shipped|'
  'runtime.slots = 1|s/^slots = 2 /slots = 1 /'
  'runtime.slots = 4|s/^slots = 2 /slots = 4 /'
  'sandbox 0.8 s|s/^sandbox_time = "1500ms"/sandbox_time = "800ms"/'
  'sandbox 3 s|s/^sandbox_time = "1500ms"/sandbox_time = "3000ms"/'
  'create + start 0.5 s|s/^container_start_time = "1000ms"/container_start_time = "500ms"/'
  'create + start 2 s|s/^container_start_time = "1000ms"/container_start_time = "2000ms"/'
  'apiserver 20 ms a request|s/^service_time = "5ms"/service_time = "20ms"/'
  'no hostNetwork status resync|s/^host_network_status_resync = true/host_network_status_resync = false/'
  'workers of 4 vCPU, 8 GiB|s/^cpu_millis = 2000 /cpu_millis = 4000 /;s/^memory_mib = 4096 /memory_mib = 8192 /'
  'kubectl on node01 (a worker site)|s/^kubectl_host = "master01"/kubectl_host = "node01"/'
  'scale 1 s after the create|s/^scale_gap = "300ms"/scale_gap = "1s"/'
)

echo "| assumption | registry RTT | download | fit RMS | 4/100 | 4/500 | 100/100 | 100/500 | 4/300 | 20/100 | 20/300 | 20/500 | 100/300 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for v in "${variants[@]}"; do
  name=${v%%|*}
  expr=${v#*|}
  dir="$out/$(echo "$name" | tr -cs 'a-zA-Z0-9\n' '-')"
  mkdir -p "$dir"
  if [ -n "$expr" ]; then
    sed "$expr" "$scenario" > "$dir/scenario.toml"
    # Every expression must have changed the file: a silent no-op would mislabel the row.
    changed=$(diff "$scenario" "$dir/scenario.toml" | grep -c '^>' || true)
    wanted=$(echo "$expr" | tr ';' '\n' | grep -c '^s/')
    [ "$changed" -eq "$wanted" ] || { echo "variant '$name' changed $changed lines, expected $wanted" >&2; exit 1; }
  else
    cp "$scenario" "$dir/scenario.toml"
  fi
  "$kubetwin" calibrate --data "$data" --scenario "$dir/scenario.toml" --out "$dir/params.toml" \
    --reps 30 --seed 1 --placement workers-egress --no-cross-validation > "$dir/calibrate.txt"
  rm -rf "$dir/grid"
  "$kubetwin" sweep "$dir/scenario.toml" --params "$dir/params.toml" --pods 4,20,100 \
    --delay 100ms,300ms,500ms --reps 30 --out "$dir/grid" --format csv > /dev/null 2> "$dir/sweep.log"
  rtt=$(sed -n 's/^registry_rtt = "\([0-9]*\)us"/\1/p' "$dir/params.toml")
  bw=$(sed -n 's/^download_bandwidth = "\([0-9.]*\)Mbit"/\1/p' "$dir/params.toml")
  rms=$(sed -n 's/.*RMS relative error \([0-9.]*\) %.*/\1/p' "$dir/params.toml")
  cells=$(awk -F, '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { m[$(col["pods"]) "/" $(col["delay_ms"])] = $(col["startup_mean_s"]) }
    END {
      n = split("4/100 4/500 100/100 100/500 4/300 20/100 20/300 20/500 100/300", k, " ")
      for (i = 1; i <= n; i++) printf " %.1f |", m[k[i]]
    }' "$dir/grid/results.csv")
  printf '| %s | %.1f ms | %.1f Mbit/s | %s %% |%s\n' "$name" "$(awk -v us="$rtt" 'BEGIN { print us / 1000 }')" "$bw" "$rms" "$cells"
done
