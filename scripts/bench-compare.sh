#!/usr/bin/env bash
# Before/after comparison of Snow.Native: scripts/bench.sh with BASELINE_REV=<rev>, so a build of <rev> runs
# as "snow-before" beside this work tree's "snow" (and Kestrel and nginx, unless SERVERS says otherwise), in
# the same rounds and in the connection test; the table gets a Snow/before column. Every other bench.sh
# variable passes through.
#
#   scripts/bench-compare.sh main                       # this work tree against main
#   SERVERS=snow scripts/bench-compare.sh HEAD~1        # only the two Snow builds
#   scripts/bench-compare.sh HEAD                       # A/A on a clean tree: how far noise alone moves a ratio
set -euo pipefail
if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/bench-compare.sh <git revision>   (other settings as for scripts/bench.sh)" >&2
  exit 64
fi
BASELINE_REV=$1 exec "$(dirname "$0")/bench.sh"
