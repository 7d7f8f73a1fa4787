#!/bin/sh
# Scripted Nagios plugin for nagtune's sample logs: nothing is measured,
# nothing touches the network. Each call prints the next step of a scripted
# sequence and exits with its code, so every check has a KNOWN result.
#
#   scripted_check.sh STATE_DIR KEY [FOLLOW_KEY]
#
# STATE_DIR/KEY.steps/N  step N of the sequence: EXIT_CODE<TAB>output[ | perfdata]
#                        (make_samples.py writes them; the sequence wraps around)
# STATE_DIR/KEY.len      number of steps
# STATE_DIR/KEY.count    how many checks of KEY have run (the counter)
# STATE_DIR/KEY.down     1 while KEY's last result was not 0, else 0
# FOLLOW_KEY             if STATE_DIR/FOLLOW_KEY.down is 1 (what KEY depends
#                        on - its host, or a host's parent - is failing),
#                        print STATE_DIR/KEY.follow and exit 2 without
#                        advancing KEY's own sequence.
# EXIT_CODE "hang"       sleep until Nagios kills the check (a check timeout).
#
# Shell built-ins only (no sed, cat, wc): one process per check, so checks
# stay fast under a sped-up clock.
IFS=
d=$1
k=$2
if [ -n "$3" ]; then
    read -r down < "$d/$3.down"
    if [ "$down" = 1 ]; then
        read -r out < "$d/$k.follow"
        echo 1 > "$d/$k.down"
        printf '%s\n' "$out"
        exit 2
    fi
fi
read -r n < "$d/$k.count"
read -r total < "$d/$k.len"
echo $((n + 1)) > "$d/$k.count"
read -r line < "$d/$k.steps/$((n % total))"
code=${line%%	*}
if [ "$code" = hang ]; then
    exec sleep 36000
fi
if [ "$code" = 0 ]; then echo 0 > "$d/$k.down"; else echo 1 > "$d/$k.down"; fi
printf '%s\n' "${line#*	}"
exit "$code"
