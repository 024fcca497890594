#!/bin/sh
# pg_diagnosis.sh VMLAB GUEST [INITRD] — under trap-classic a guest kernel whose own check fails
# because a Popek-Goldberg hole showed it the wrong value ends with vmlab's diagnosis naming the
# hole, what the guest saw and what it needed (issue 15): status 4, one line on stderr saying
# "Popek-Goldberg hole", the guest's failed check (ud2) and "pushf: the guest saw IF=1 ... it
# needed IF=0", within the run's time limit (never a reboot loop until the wall clock).
#
# GUEST is tests/guests/pushf_hole.elf (the tiny guest that reproduces it), or Linux's bzImage
# with INITRD (scripts/linux-guest.sh), whose irq_work_run_list BUG_ON(!irqs_disabled()) fires
# after a local_irq_save() whose pushf showed IF=1 made the matching local_irq_restore() sti.
set -u
vmlab=${1:?usage: pg_diagnosis.sh VMLAB GUEST [INITRD]}
guest=${2:?usage: pg_diagnosis.sh VMLAB GUEST [INITRD]}
[ -f "$guest" ] || { echo "pg_diagnosis: FAIL: $guest is missing"; exit 1; }
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if [ $# -ge 3 ]; then
    timeout 300 "$vmlab" run --mode trap-classic --guest "$guest" --initrd "$3" --quiet \
        --cmdline "console=ttyS0 panic=-1 workload=syscall n=100" --timeout 240 2> "$err"
else
    timeout 60 "$vmlab" run --mode trap-classic --guest "$guest" --quiet --timeout 30 2> "$err"
fi
st=$?
fail() { echo "pg_diagnosis: FAIL: $*"; cat "$err"; exit 1; }
[ "$st" = 4 ] || fail "status $st, want 4 (a guest failure with the diagnosis)"
[ "$(wc -l < "$err")" = 1 ] || fail "want exactly one line on stderr"
for want in "Popek-Goldberg hole" "own check failed (ud2 at EIP" "pushf: the guest saw IF=1" \
            "it needed IF=0"; do
    grep -qF "$want" "$err" || fail "stderr does not say \"$want\""
done
echo "pg_diagnosis: ok: $(cat "$err")"
