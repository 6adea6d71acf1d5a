# shellcheck shell=bash
# Sourced by scripts/bench.sh: the report. compute_medians turns ROUND_RPS into RPS (the median over the
# rounds); print_rounds writes every measured run to rounds.md; print_table prints the markdown table (req/s
# and connection-test figures per server, Snow/x ratios, the footer with how it was measured, the must-hold
# verdict and the notes) and writes it to summary.md.

declare -A RPS           # RPS[server:test] = median requests/s over the rounds

# The table. Ratios are Snow divided by the other server: above 1 is better for req/s, below 1 is better
# for bytes and milliseconds.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
cell() { if [ -n "$1" ]; then echo "$1"; else echo "—"; fi; }
rounded() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }

label_of() {
  case $1 in
    snow) echo "Snow.Native" ;; snow-before) echo "Snow.Native before ($BASELINE_SHORT)" ;;
    snow-sslstream) echo "Snow.Native, SslStream engine" ;;
    kestrel) echo "Kestrel" ;; nginx) echo "nginx" ;;
  esac
}

short_label_of() {
  case $1 in snow) echo "Snow" ;; snow-before) echo "before" ;; snow-sslstream) echo "SslStream" ;; kestrel) echo "Kestrel" ;; nginx) echo "nginx" ;; esac
}

# median VALUE...: the median (the mean of the middle two for an even count); nothing for no values.
median() { [ "$#" -gt 0 ] && printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

compute_medians() {
  local name entry test round values
  for name in "${REQUESTED[@]}"; do
    for entry in "${THROUGHPUT_TESTS[@]}" "${TLS_TESTS[@]}"; do
      test=${entry%%:*}
      values=()
      for ((round = 1; round <= ROUNDS; round++)); do
        [ -n "${ROUND_RPS[$name:$test:$round]:-}" ] && values+=("${ROUND_RPS[$name:$test:$round]}")
      done
      RPS[$name:$test]=$(median "${values[@]}")
    done
  done
}

# round_ratio_cell A B TEST: the median of A/B over the rounds where both were measured, with min-max.
round_ratio_cell() {
  local a=$1 b=$2 test=$3 round ratios=() x y
  for ((round = 1; round <= ROUNDS; round++)); do
    x=${ROUND_RPS[$a:$test:$round]:-}; y=${ROUND_RPS[$b:$test:$round]:-}
    [ -n "$x" ] && [ -n "$y" ] && ratios+=("$(awk -v a="$x" -v b="$y" 'BEGIN { if (b + 0 > 0) printf "%.6f", a / b }')")
  done
  [ "${#ratios[@]}" -gt 0 ] || { echo "—"; return; }
  local mid
  mid=$(median "${ratios[@]}")
  if [ "${#ratios[@]}" -eq 1 ]; then
    awk -v m="$mid" 'BEGIN { printf "%.2f", m }'
  else
    printf '%s\n' "${ratios[@]}" | sort -g | awk -v m="$mid" '{ v[NR] = $1 } END { printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'
  fi
}

print_rounds() {
  {
    echo "Every measured run (req/s), round by round:"
    echo
    local header="| test | round |" rule="|---|---|" name
    for name in "${REQUESTED[@]}"; do header="$header $(label_of "$name") |"; rule="$rule---|"; done
    echo "$header"
    echo "$rule"
    local entry test round line
    for entry in "${THROUGHPUT_TESTS[@]}"; do
      test=${entry%%:*}
      for ((round = 1; round <= ROUNDS; round++)); do
        line="| $test | $round |"
        for name in "${REQUESTED[@]}"; do line="$line $(cell "$(rounded "${ROUND_RPS[$name:$test:$round]:-}")") |"; done
        echo "$line"
      done
    done
  } >"$RESULTS/rounds.md"
}

print_table() {
  local summary=$RESULTS/summary.md others=() name
  requested snow && for name in "${REQUESTED[@]}"; do [ "$name" != snow ] && others+=("$name"); done
  {
    local header="| test |" rule="|---|"
    for name in "${REQUESTED[@]}"; do header="$header $(label_of "$name") |"; rule="$rule---|"; done
    for name in "${others[@]}"; do header="$header Snow/$(short_label_of "$name") |"; rule="$rule---|"; done
    echo "$header"
    echo "$rule"
    local entry test line
    if [[ " $TESTS " == *" throughput "* ]]; then
      for entry in "${THROUGHPUT_TESTS[@]}"; do
        test=${entry%%:*}
        line="| $test req/s |"
        for name in "${REQUESTED[@]}"; do line="$line $(cell "$(rounded "${RPS[$name:$test]:-}")") |"; done
        for name in "${others[@]}"; do line="$line $(round_ratio_cell snow "$name" "$test") |"; done
        echo "$line"
      done
    fi
    if [[ " $TESTS " == *" tls "* ]]; then
      for entry in "${TLS_TESTS[@]}"; do
        test=${entry%%:*}
        line="| $test req/s |"
        [[ "$test" == *handshakes* ]] && line="| $test new connections/s |"
        for name in "${REQUESTED[@]}"; do line="$line $(cell "$(rounded "${RPS[$name:$test]:-}")") |"; done
        for name in "${others[@]}"; do line="$line $(round_ratio_cell snow "$name" "$test") |"; done
        echo "$line"
      done
    fi
    if [[ " $TESTS " == *" connections "* || " $TESTS " == *" tls "* ]]; then
      # memory_row LABEL KEY ROUND? NO_NGINX?
      memory_row() {
        local label=$1 key=$2 round=$3 no_nginx=$4 v s
        line="| $label |"
        for name in "${REQUESTED[@]}"; do
          v=${MEMORY[$name:$key]:-}
          [ -n "$round" ] && v=$(rounded "$v")
          [ "$name" = nginx ] && [ -n "$no_nginx" ] && v=""
          line="$line $(cell "$v") |"
        done
        s=${MEMORY[snow:$key]:-}
        for name in "${others[@]}"; do
          v=${MEMORY[$name:$key]:-}
          [ "$name" = nginx ] && [ -n "$no_nginx" ] && v=""
          line="$line $(ratio "$s" "$v") |"
        done
        echo "$line"
      }
      if [[ " $TESTS " == *" connections "* ]]; then
        memory_row "RSS per idle keep-alive connection, bytes ($SCALE_CONNECTIONS)" idle_rss_per_conn_bytes "" ""
        memory_row "RSS per parked request, bytes ($SCALE_CONNECTIONS)" parked_rss_per_req_bytes "" 1
        memory_row "release all $SCALE_CONNECTIONS parked, ms" release_all_ms 1 1
      fi
      if [[ " $TESTS " == *" tls "* ]]; then
        memory_row "RSS per idle TLS keep-alive connection, bytes ($SCALE_CONNECTIONS)" tls_idle_rss_per_conn_bytes "" ""
      fi
    fi
    echo
    if [[ " $TESTS " == *" throughput "* ]]; then
      echo "Throughput: all servers running at once, each pinned to core $SERVER_CORE; one wrk thread on core $CLIENT_CORE took them"
      echo "in turn, $ROUNDS round(s) x $DURATION per test and server (order rotating each round) after a $WARMUP warm-up per test and"
      echo "server. req/s: median over the rounds; Snow/x: median of the per-round ratios (min–max over rounds)."
    fi
    if [[ " $TESTS " == *" tls "* ]]; then
      echo "TLS: the same certificate (ECDSA P-256) for every server; HTTPS rounds like the throughput rounds; handshakes: $HANDSHAKE_CLIENTS"
      echo "openssl s_time -new -tls1_3 clients at once on core $CLIENT_CORE (a full handshake and one HTTP/1.0 request per connection)."
    fi
    if [[ " $TESTS " == *" connections "* ]]; then
      echo "Connection test: one server at a time, freshly started, on core $SERVER_CORE; the test on core $CLIENT_CORE."
    fi
    echo ".NET GC: $DOTNET_GC_MODE ($(dotnet_gc_env)); Snow poller: $SNOW_POLLER. snow = this work tree ($CURRENT_DESCRIPTION)."
    requested snow-before && echo "snow-before = $BASELINE_REV ($BASELINE_COMMIT), built from a temporary git worktree."
    echo "Ratios: above 1 is better for req/s, below 1 is better for bytes and ms. Raw outputs: $RESULTS (rounds.md: every run)"
    if [[ " $TESTS " == *" connections "* ]]; then
      local held="" v verdict
      for name in snow snow-before; do
        requested "$name" || continue
        v=${MEMORY[$name:idle_rss_per_conn_bytes]:-}
        if [ -z "$v" ]; then verdict="$name not measured"
        elif awk -v v="$v" -v l="$RSS_PER_IDLE_CONNECTION_LIMIT" 'BEGIN { exit !(v + 0 <= l + 0) }'; then verdict="$name $v B holds"
        else verdict="$name $v B DOES NOT HOLD"
        fi
        held="${held:+$held; }$verdict"
      done
      if [ -n "$held" ]; then
        echo "Must-hold, RSS per idle keep-alive connection <= $RSS_PER_IDLE_CONNECTION_LIMIT B (at $SCALE_CONNECTIONS connections): $held."
      fi
    fi
    if [ "${#NOTES[@]}" -gt 0 ]; then
      echo
      echo "Notes:"
      local note_line
      for note_line in "${NOTES[@]}"; do echo "- $note_line"; done
    fi
  } | tee "$summary"
}
