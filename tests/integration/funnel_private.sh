#!/usr/bin/env bash
# funnel_private.sh — no mode records an event except through the funnel.
#
#   tests/integration/funnel_private.sh SOURCE_DIR
#
# The event store's recording calls (emu/events_record.h) are private to the funnel and the
# machine; the build already refuses the header under emu/modes/. This check closes the other
# routes: no file under emu/modes/ names a recording function (ev_record, ev_record_detail, ev_add,
# ev_trace_row, ev_validation, ev_translation, ev_hypercall_row) or the header. To show the check
# can fail, the same search must find those calls in emu/funnel.c. And no mode calls back into
# the exit loop: nothing under emu/modes/ includes emu/run.h (handlers return an action).
set -eu
src=$(cd "${1:?usage: funnel_private.sh SOURCE_DIR}" && pwd)
pattern='\b(ev_record|ev_record_detail|ev_add|ev_trace_row|ev_validation|ev_translation|ev_hypercall_row)[[:space:]]*\(|events_record\.h'
found=$(grep -nE "$pattern" "$src"/emu/funnel.c | wc -l)
[ "$found" -ge 5 ] || { echo "funnel_private: FAIL: the search finds $found recording calls in emu/funnel.c; it cannot be trusted" >&2; exit 1; }
if grep -nE "$pattern" "$src"/emu/modes/*.c "$src"/emu/modes/*.h >&2; then
  echo "funnel_private: FAIL: the lines above record events from emu/modes/ without the funnel" >&2
  exit 1
fi
if grep -n 'include "emu/run.h"' "$src"/emu/modes/*.c "$src"/emu/modes/*.h >&2; then
  echo "funnel_private: FAIL: the lines above call into the exit loop from emu/modes/" >&2
  exit 1
fi
echo "funnel_private: emu/modes/ records nothing directly and never calls into the loop ($found recording calls in the funnel)"
