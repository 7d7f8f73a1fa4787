#!/bin/bash
# Every check command of the config-repo's runs: prints the next step of the
# service's scripted sequence (Nagios' environment macros name the service).
# STATE/KEY.steps/N: EXIT<TAB>output; STATE/KEY.len; STATE/KEY.count.
# Bash built-ins only: one process per check under the sped-up clock.
IFS=
d=${NAGTUNE_PLUGIN_STATE:?}
k="${NAGIOS_HOSTNAME}__${NAGIOS_SERVICEDESC:-HOST}"
k=${k//[^A-Za-z0-9_.-]/_}
if [ ! -e "$d/$k.len" ]; then
    echo "OK - nothing scripted"
    exit 0
fi
read -r n < "$d/$k.count"
read -r total < "$d/$k.len"
echo $((n + 1)) > "$d/$k.count"
read -r line < "$d/$k.steps/$((n % total))"
printf '%s\n' "${line#*	}"
exit "${line%%	*}"
