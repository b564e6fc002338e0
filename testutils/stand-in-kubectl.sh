#!/bin/sh
# Stand-in kubectl for kubetwin's tests (validate and cli): replays output captured from a real
# kubectl. The tests fill in @CAPS@ (the captures folder) and @STATE@ (the test's state folder).
caps='@CAPS@'
state='@STATE@'
[ "$1" = "--probe" ] && exit 0
printf '%s\n' "$*" >> "$state/calls.log"
n=$(wc -l < "$state/calls.log")
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) shift 2 ;;
    --kubeconfig=*|--request-timeout=*) shift ;;
    *) break ;;
  esac
done
ns="$3"
# replay FILE [NAME]: the capture without its "exit N" line, kubetwin-run-1 replaced by NAME; stdout when
# N is 0 (or absent), else stderr; then exit N.
replay() {
  f="$caps/$1"
  code=0
  last=$(tail -n 1 "$f")
  case "$last" in "exit "*) code=${last#exit } ;; esac
  if [ "$code" -eq 0 ]; then
    grep -v '^exit [0-9]*$' "$f" | sed "s/kubetwin-run-1/$2/g"
  else
    grep -v '^exit [0-9]*$' "$f" | sed "s/kubetwin-run-1/$2/g" >&2
  fi
  exit "$code"
}
if [ -f "$state/down" ]; then
  read -r from to < "$state/down"
  if [ "$n" -ge "$from" ] && [ "$n" -lt "$to" ]; then replay namespace-run/server-down.err; fi
fi
key="$1 $2"
# state/hang (VERB KIND [ARG]): every such command (with ARG among its arguments, if given)
# hangs, as a kubectl stuck in a credential plugin, or waiting on a deletion, would; the sleep
# is a child of the script, in its process group.
if [ -f "$state/hang" ]; then
  read -r h1 h2 h3 < "$state/hang"
  if [ "$key" = "$h1 $h2" ]; then
    if [ -z "$h3" ]; then sleep 600; exit 0; fi
    for a in "$@"; do if [ "$a" = "$h3" ]; then sleep 600; exit 0; fi; done
  fi
fi
# state/hang1 (VERB KIND): the next such command hangs, once.
if [ -f "$state/hang1" ]; then
  read -r g1 g2 < "$state/hang1"
  if [ "$key" = "$g1 $g2" ]; then rm -f "$state/hang1"; sleep 600; exit 0; fi
fi
if [ -f "$state/fail" ]; then
  read -r f1 f2 ffile < "$state/fail"
  if [ "$key" = "$f1 $f2" ]; then rm -f "$state/fail"; replay "$ffile" "$ns"; fi
fi
# The namespace a namespaced command names with -n.
nsflag=''
prev=''
for a in "$@"; do
  if [ "$prev" = "-n" ]; then nsflag="$a"; fi
  prev="$a"
done
# The watch run: state/watch-20 makes the pod answers come from watch-20-pods/ (the run the
# watch streams were captured in) instead of namespace-run/, with the deployment's
# creationTimestamp moved to that run's second (its first pods were created in it; the capture's
# create + scale returned after 0.18 s, timing.txt).
w20=''
[ -f "$state/watch-20" ] && w20=1
from_default() { sed -e "s/\"namespace\": *\"default\"/\"namespace\":\"$nsflag\"/g" "$caps/watch-20-pods/$1"; }
# kubectl get pods -w: the captured --output-watch-events -o json stream. With state/watch-20 it is
# paced by the receive times captured alongside it (watch-events-wide.timestamped.txt, divided by
# state/watch-pace if given) and then, as a real watch, runs until stopped; without, it is printed
# at once and ends.
case " $* " in *" -w "*)
  # state/fail-watch (FILE): the watch fails with that captured error.
  if [ -f "$state/fail-watch" ]; then replay "$(cat "$state/fail-watch")" "$nsflag"; fi
  if [ -n "$w20" ]; then
    echo $$ > "$state/watch.pid"
    # Its pods come after the deployment: wait for the create (at most 10 s).
    i=0
    while [ ! -e "$state/ns/$nsflag/deployment" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    pace=1
    [ -f "$state/watch-pace" ] && pace=$(cat "$state/watch-pace")
    tail -n +2 "$caps/watch-20-pods/watch-events-wide.timestamped.txt" | cut -d' ' -f1 > "$state/watch-times.$$"
    from_default watch-events-json.txt | awk -v pace="$pace" -v times="$state/watch-times.$$" '
      { getline t < times; if (NR > 1 && t > last) system("sleep " (t - last) / pace); last = t; print; fflush() }'
    rm -f "$state/watch-times.$$"
    sleep 600
    exit 0
  fi
  from_default watch-events-json.txt
  exit 0 ;;
esac
case "$key" in
  "version -o") cat "$caps/namespace-run/version.json" ;;
  "create namespace")
    if [ -f "$state/already-exists" ]; then
      k=$(cat "$state/already-exists")
      if [ "$k" -gt 0 ]; then echo $((k - 1)) > "$state/already-exists"; replay namespace-run/ns-create-again.err "$ns"; fi
    fi
    if [ -e "$state/ns/$ns" ]; then replay namespace-run/ns-create-again.err "$ns"; fi
    mkdir -p "$state/ns/$ns"; : > "$state/ns/$ns/labels"
    echo "namespace/$ns created" ;;
  "label namespace")
    [ -d "$state/ns/$ns" ] || replay namespace-run/ns-get-after-delete.err "$ns"
    shift 3
    for kv in "$@"; do echo "$kv" >> "$state/ns/$ns/labels"; done
    echo "namespace/$ns labeled" ;;
  "get namespace")
    [ -d "$state/ns/$ns" ] || replay namespace-run/ns-get-after-delete.err "$ns"
    printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s","labels":{' "$ns"
    sep=''
    while IFS='=' read -r k v; do printf '%s"%s":"%s"' "$sep" "$k" "$v"; sep=','; done < "$state/ns/$ns/labels"
    printf '}},"status":{"phase":"Active"}}\n' ;;
  "delete namespace")
    [ -d "$state/ns/$ns" ] || replay namespace-run/ns-get-after-delete.err "$ns"
    rm -rf "$state/ns/$ns"
    replay namespace-run/ns-delete.txt "$ns" ;;
  "create deployment")
    [ -d "$state/ns/$nsflag" ] && : > "$state/ns/$nsflag/deployment"
    cat "$caps/namespace-run/dep-create.txt" ;;
  "get deployment")
    if [ -n "$w20" ]; then
      sed 's/"creationTimestamp": *"2026-11-25T12:03:54Z"/"creationTimestamp":"2026-11-25T11:58:27Z"/' "$caps/namespace-run/deployment.json"
    else
      cat "$caps/namespace-run/deployment.json"
    fi ;;
  "scale deployment") cat "$caps/namespace-run/dep-scale.txt" ;;
  "get pods") if [ -n "$w20" ]; then from_default pods-final.json; else cat "$caps/namespace-run/pods.json"; fi ;;
  "get events") if [ -n "$w20" ]; then from_default events.json; else cat "$caps/namespace-run/events.json"; fi ;;
  *) echo "error: unknown command \"$1\" for \"kubectl\"" >&2; exit 1 ;;
esac
