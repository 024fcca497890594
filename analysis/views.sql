-- views.sql — the views of the vmlab trace database (tables: traces/tdb_schema.c, analysis/schema.md).
--
-- Compiled into vmlab and (re)created by every tdb_open whose build differs from the one that
-- created them, so a database always carries the views of the newest vmlab that opened it.
-- Views price the recorded counts under every cost model loaded into the database (table `model`):
-- nothing is priced at record time, so one run can be compared under any CPU generation.
--
-- Pricing rule. A counter row (class, reason, qualifier, count, count2) costs
--     count * cycles + count2 * per_unit
-- with (cycles, per_unit) from the model's most specific row: (run's mode, class, reason), else
-- (mode, class, any reason), else (any mode, class, reason), else (any mode, class, any reason),
-- else 0 (the row is then flagged `unpriced`). Instructions are priced from run_phase
-- (instructions * the model's `insn` cycles, i.e. CPI); counter rows of class insn are not priced
-- again. "Per operation" figures use the measured phase (1), divided by the run's n, net of the
-- loop's own cost: a workload that runs its loop again with an empty body in phase 3
-- (calibration, same n, same mode) has that phase's cycles taken off and reported apart
-- (loop_cycles_per_op); one without phase 3 is taken whole.
--
--   event_count_named   counters with a readable event label: exit(CR_ACCESS), hypercall(mmu_update),
--                       fault(#PF), io(0x3f8), ioemul(0x80), priv(cli), montrap(#GP cli),
--                       hvtrap(#GP in1 0x80), reflect(0x80), bounce(#PF), upcall(event) ...
--   priced_count        every counter row under every model, with its modeled cycles and the
--                       params of the cost that priced it (JSON array)
--   phase_cost          per run, phase and model: instructions, events, modeled cycles
--   run_cost            per run and model: totals, measured-phase cycles, cycles per operation
--                       (net of the calibration loop), the loop's cycles per operation
--   kvm_stat            per run, model and event: the columns of `perf kvm stat report`
--   latest_run          the newest successful run of each (workload, mode)
--   op_cost             latest runs: cycles per operation (net of the loop) and relative to
--                       native, the loop's own cycles per operation, per model
--   monitor_per_op      latest runs: monitor entries per operation, by the mechanism that made
--                       them (VT-x exits, monitor traps, callouts, hypervisor traps, hypercalls)
--   pv_per_op           latest pv runs: hypercalls, batch elements, validations, entries per operation
--   bt_per_op           latest bt runs: callouts, in-cache emulations, lookup hits and misses,
--                       guest instructions translated, per operation
--   workload_ratio      latest runs: each workload's ratio to native per model and mode, or why
--                       it has none
--   mode_aggregate      per model and mode: the geometric mean of workload_ratio over the
--                       workloads that have one, and how many have one / were left out
--   bucket_named        the time series with class names
--   translation_summary per run and phase (bt): units, trampolines, guest instructions and bytes
--                       read, TC bytes written, expansion (TC bytes / guest bytes)
--   model_provenance    per model and param: value and where it comes from (kind source, carried,
--                       estimate or derived; the reference key and where in it, the model it is
--                       carried from, why it is estimated, what it is derived from)
--   model_unsourced     the params each model carries from another generation or estimates
--   param_use           per run, phase and model: the (non-derived) params that priced its events
--                       and instructions
--   run_unsourced       per run, phase and model: the carried and estimated params its pricing used

CREATE VIEW event_count_named AS
SELECT c.run_id, c.phase, c.class, k.name AS class_name, c.reason, c.qualifier, c.count, c.count2,
       k.name || '(' || CASE k.name
           WHEN 'exit' THEN coalesce(x.name, 'EXIT_' || c.reason)
           WHEN 'hypercall' THEN coalesce(h.name, 'hypercall_' || c.reason)
           WHEN 'fault' THEN coalesce(v.mnemonic, 'vector ' || c.reason)
           WHEN 'interrupt' THEN printf('0x%02x', c.reason)
           WHEN 'softint' THEN printf('0x%02x', c.reason)
           WHEN 'io' THEN printf('0x%x', c.reason)
           WHEN 'ioemul' THEN printf('0x%x', c.reason)
           WHEN 'upcall' THEN 'event'
           WHEN 'montrap' THEN coalesce(v.mnemonic, printf('0x%02x', c.reason))
                               || CASE WHEN c.qualifier NOT IN ('', 'int', coalesce(v.mnemonic, ''))
                                       THEN ' ' || c.qualifier ELSE '' END
           WHEN 'hvtrap' THEN coalesce(v.mnemonic, printf('0x%02x', c.reason))
                              || CASE WHEN c.qualifier NOT IN ('', 'int', coalesce(v.mnemonic, ''))
                                      THEN ' ' || c.qualifier ELSE '' END
           WHEN 'reflect' THEN coalesce(v.mnemonic, printf('0x%02x', c.reason))
           WHEN 'bounce' THEN coalesce(v.mnemonic, printf('0x%02x', c.reason))
           WHEN 'translate' THEN CASE c.reason WHEN 0 THEN 'unit' WHEN 1 THEN 'retranslation'
                                 WHEN 2 THEN 'chain' WHEN 3 THEN 'flush'
                                 WHEN 4 THEN 'trampoline' ELSE c.reason END
           WHEN 'iblookup' THEN CASE c.reason WHEN 0 THEN 'hit' WHEN 1 THEN 'miss' ELSE c.reason END
                                || CASE WHEN c.qualifier <> '' THEN ' ' || c.qualifier ELSE '' END
           WHEN 'validation' THEN 'L' || c.reason
                                || CASE WHEN c.qualifier <> '' THEN ' ' || c.qualifier ELSE '' END
           ELSE CASE WHEN c.qualifier <> '' THEN c.qualifier ELSE c.reason END
       END || ')' AS event
FROM event_count c
JOIN event_class k ON k.id = c.class
LEFT JOIN vmx_exit_reason x ON k.name = 'exit' AND x.nr = c.reason
LEFT JOIN xen_hypercall h ON k.name = 'hypercall' AND h.nr = c.reason
LEFT JOIN exception_vector v ON k.name IN ('fault', 'montrap', 'hvtrap', 'reflect', 'bounce')
      AND v.nr = c.reason;

CREATE VIEW priced_count AS
SELECT n.*, run.mode, m.id AS model_id, m.name AS model,
       n.count * coalesce(mr.cycles, md.cycles, r.cycles, d.cycles, 0)
         + n.count2 * coalesce(mr.per_unit, md.per_unit, r.per_unit, d.per_unit, 0) AS cycles,
       coalesce(mr.model_id, md.model_id, r.model_id, d.model_id) IS NULL AS unpriced,
       coalesce(mr.params, md.params, r.params, d.params, '[]') AS params
FROM event_count_named n
JOIN run ON run.id = n.run_id
CROSS JOIN model m
LEFT JOIN model_cost mr ON mr.model_id = m.id AND mr.mode = run.mode AND mr.class = n.class
      AND mr.reason = n.reason
LEFT JOIN model_cost md ON md.model_id = m.id AND md.mode = run.mode AND md.class = n.class
      AND md.reason IS NULL
LEFT JOIN model_cost r ON r.model_id = m.id AND r.mode IS NULL AND r.class = n.class
      AND r.reason = n.reason
LEFT JOIN model_cost d ON d.model_id = m.id AND d.mode IS NULL AND d.class = n.class
      AND d.reason IS NULL
WHERE n.class_name <> 'insn';

CREATE VIEW phase_cost AS
WITH ev AS (
    SELECT run_id, phase, model_id, sum(count) AS events, sum(cycles) AS cycles
    FROM priced_count GROUP BY run_id, phase, model_id)
SELECT p.run_id, p.phase, m.id AS model_id, m.name AS model,
       p.insn_user + p.insn_kernel AS instructions,
       (p.insn_user + p.insn_kernel) * coalesce(mcpi.cycles, cpi.cycles, 0) AS insn_cycles,
       coalesce(ev.events, 0) AS events,
       coalesce(ev.cycles, 0) AS event_cycles,
       (p.insn_user + p.insn_kernel) * coalesce(mcpi.cycles, cpi.cycles, 0)
         + coalesce(ev.cycles, 0) AS cycles
FROM run_phase p
JOIN run ON run.id = p.run_id
CROSS JOIN model m
LEFT JOIN model_cost mcpi ON mcpi.model_id = m.id AND mcpi.mode = run.mode
      AND mcpi.reason IS NULL AND mcpi.class = (SELECT id FROM event_class WHERE name = 'insn')
LEFT JOIN model_cost cpi ON cpi.model_id = m.id AND cpi.mode IS NULL AND cpi.reason IS NULL
      AND cpi.class = (SELECT id FROM event_class WHERE name = 'insn')
LEFT JOIN ev ON ev.run_id = p.run_id AND ev.phase = p.phase AND ev.model_id = m.id;

CREATE VIEW run_cost AS
SELECT r.id AS run_id, r.workload, r.n, r.mode, r.status, pc.model_id, pc.model,
       sum(pc.instructions) AS instructions,
       sum(pc.events) AS events,
       sum(pc.cycles) AS cycles,
       sum(CASE WHEN pc.phase = 1 THEN pc.instructions END) AS measured_instructions,
       sum(CASE WHEN pc.phase = 1 THEN pc.events END) AS measured_events,
       sum(CASE WHEN pc.phase = 1 THEN pc.cycles END) AS measured_cycles,
       (sum(CASE WHEN pc.phase = 1 THEN pc.cycles END)
          - coalesce(sum(CASE WHEN pc.phase = 3 THEN pc.cycles END), 0)) / nullif(r.n, 0)
         AS cycles_per_op,
       sum(CASE WHEN pc.phase = 3 THEN pc.cycles END) / nullif(r.n, 0) AS loop_cycles_per_op,
       sum(CASE WHEN pc.phase = 1 THEN pc.cycles END) / nullif(r.n, 0) AS gross_cycles_per_op
FROM run r
JOIN phase_cost pc ON pc.run_id = r.id
GROUP BY r.id, pc.model_id;

CREATE VIEW kvm_stat AS
WITH e AS (
    SELECT run_id, model_id, model, event, sum(count) AS samples, sum(cycles) AS cycles,
           min(cycles / count) AS min_cycles, max(cycles / count) AS max_cycles
    FROM priced_count WHERE count > 0 GROUP BY run_id, model_id, event),
t AS (SELECT run_id, model_id, sum(samples) AS samples FROM e GROUP BY run_id, model_id),
tc AS (SELECT run_id, model_id, sum(cycles) AS cycles FROM phase_cost GROUP BY run_id, model_id)
SELECT e.run_id, e.model, e.event, e.samples,
       100.0 * e.samples / t.samples AS samples_pct,
       100.0 * e.cycles / nullif(tc.cycles, 0) AS time_pct,
       e.min_cycles, 1.0 * e.cycles / e.samples AS avg_cycles, e.max_cycles, e.cycles
FROM e
JOIN t ON t.run_id = e.run_id AND t.model_id = e.model_id
LEFT JOIN tc ON tc.run_id = e.run_id AND tc.model_id = e.model_id;

CREATE VIEW latest_run AS
SELECT max(id) AS run_id, workload, mode FROM run WHERE status = 'ok' GROUP BY workload, mode;

CREATE VIEW op_cost AS
WITH latest AS (
    SELECT rc.* FROM run_cost rc JOIN latest_run l ON l.run_id = rc.run_id)
SELECT a.run_id, a.workload, a.n, a.mode, a.model_id, a.model,
       a.measured_instructions, a.measured_events, a.measured_cycles, a.cycles_per_op,
       a.loop_cycles_per_op, a.gross_cycles_per_op,
       a.cycles_per_op / nullif(nat.cycles_per_op, 0) AS relative_to_native
FROM latest a
LEFT JOIN latest nat ON nat.workload = a.workload AND nat.model_id = a.model_id
      AND nat.mode = 'native';

CREATE VIEW monitor_per_op AS
SELECT r.id AS run_id, r.workload, r.mode, n.class_name, n.event,
       sum(n.count) AS count, 1.0 * sum(n.count) / nullif(r.n, 0) AS per_op
FROM latest_run l
JOIN run r ON r.id = l.run_id
JOIN event_count_named n ON n.run_id = r.id
WHERE n.phase = 1 AND n.class_name IN ('exit', 'montrap', 'callout', 'hvtrap', 'hypercall')
GROUP BY r.id, n.event;

CREATE VIEW pv_per_op AS
SELECT r.id AS run_id, r.workload, r.n,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'hypercall' THEN n.count END), 0)
           / nullif(r.n, 0) AS hypercalls_per_op,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'hypercall' THEN n.count2 END), 0)
           / nullif(r.n, 0) AS batch_elements_per_op,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'validation' THEN n.count END), 0)
           / nullif(r.n, 0) AS validations_per_op,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'validation' THEN n.count2 END), 0)
           / nullif(r.n, 0) AS entries_per_op
FROM latest_run l
JOIN run r ON r.id = l.run_id
LEFT JOIN event_count_named n ON n.run_id = r.id AND n.phase = 1
WHERE r.mode = 'pv'
GROUP BY r.id;

CREATE VIEW bt_per_op AS
SELECT r.id AS run_id, r.workload, r.n,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'callout' THEN n.count END), 0)
           / nullif(r.n, 0) AS callouts_per_op,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'incache' THEN n.count END), 0)
           / nullif(r.n, 0) AS incache_per_op,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'iblookup' AND n.reason = 0 THEN n.count END), 0)
           / nullif(r.n, 0) AS lookup_hits_per_op,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'iblookup' AND n.reason = 1 THEN n.count END), 0)
           / nullif(r.n, 0) AS lookup_misses_per_op,
       1.0 * coalesce(sum(CASE WHEN n.class_name = 'translate' AND n.reason IN (0, 4)
                               THEN n.count2 END), 0)
           / nullif(r.n, 0) AS insns_translated_per_op
FROM latest_run l
JOIN run r ON r.id = l.run_id
LEFT JOIN event_count_named n ON n.run_id = r.id AND n.phase = 1
WHERE r.mode = 'bt'
GROUP BY r.id;

-- The aggregate across workloads: one definition, read by `vmlab stat`, `vmlab compare`'s summary
-- and `vmlab report` alike. Each workload's ratio to native is op_cost.relative_to_native (modeled
-- cycles per operation of the mode's newest ok run, measured phase, over native's, same workload,
-- same model: the ratio of the measured phases' modeled cycles, as a workload's runs in a suite
-- measure the same n). A mode's aggregate is the geometric mean of those ratios over the
-- workloads that have one (SPEC's convention). A workload is left out of a mode, with the reason
-- in workload_ratio.excluded, when it has no native run, when native's run has no positive
-- modeled cycles per operation (zero cycles, or no n), or when the mode's own run has none.
-- A mode missing for some workloads simply has fewer of them: mode_aggregate.workloads says how
-- many. ln and exp are SQLite's built-in math functions (SQLITE_ENABLE_MATH_FUNCTIONS, on in
-- the libsqlite3 vmlab links; tests/unit/test_aggregate.c fails without them).
CREATE VIEW workload_ratio AS
SELECT o.model_id, o.model, o.workload, o.mode, o.run_id, o.cycles_per_op, o.loop_cycles_per_op,
       CASE WHEN o.relative_to_native > 0 THEN o.relative_to_native END AS ratio,
       CASE WHEN o.relative_to_native > 0 THEN NULL
            WHEN NOT EXISTS (SELECT 1 FROM latest_run l WHERE l.workload = o.workload
                             AND l.mode = 'native') THEN 'no native run'
            WHEN NOT coalesce(o.cycles_per_op, 0) > 0 THEN 'no modeled cycles per operation'
            ELSE 'native run has no modeled cycles per operation'
       END AS excluded
FROM op_cost o;

CREATE VIEW mode_aggregate AS
SELECT w.model_id, w.model, m.cpu, m.year, w.mode,
       count(w.ratio) AS workloads,
       exp(avg(ln(w.ratio))) AS geomean_ratio,
       count(w.excluded) AS excluded,
       count(CASE WHEN w.excluded = 'no native run' THEN 1 END) AS without_native
FROM workload_ratio w
JOIN model m ON m.id = w.model_id
GROUP BY w.model_id, w.mode;

CREATE VIEW translation_summary AS
SELECT t.run_id, t.phase,
       sum(t.kind = 'unit') AS units, sum(t.kind = 'trampoline') AS trampolines,
       sum(t.insns) AS insns, sum(t.guest_bytes) AS guest_bytes, sum(t.tc_bytes) AS tc_bytes,
       round(1.0 * sum(t.tc_bytes) / nullif(sum(t.guest_bytes), 0), 3) AS expansion,
       count(DISTINCT t.guest_eip) AS guest_eips
FROM translation t
GROUP BY t.run_id, t.phase;

CREATE VIEW bucket_named AS
SELECT b.run_id, b.bucket, k.name AS class_name, b.count
FROM bucket b JOIN event_class k ON k.id = b.class;

-- Where the numbers come from (model_param's provenance columns, schema version 5). A carried
-- param keeps the source of the model it was carried from; a derived one (a sum of other params)
-- has the provenance of its parts, which is why param_use lists non-derived params only.
CREATE VIEW model_provenance AS
SELECT m.id AS model_id, m.name AS model, m.year, p.name AS param, p.value,
       CASE WHEN p.estimate IS NOT NULL THEN 'estimate'
            WHEN p.carried_from IS NOT NULL THEN 'carried'
            WHEN p.derived_from IS NOT NULL THEN 'derived'
            WHEN p.source IS NOT NULL THEN 'source'
       END AS kind,
       p.source, p.source_where, p.carried_from, p.estimate, p.derived_from
FROM model_param p
JOIN model m ON m.id = p.model_id;

CREATE VIEW model_unsourced AS
SELECT * FROM model_provenance WHERE kind IN ('carried', 'estimate');

-- (UNION ALL of two duplicate-free arms, insn being priced in the second only, so that a filter
-- on run_id or model_id reaches into both.)
CREATE VIEW param_use AS
SELECT DISTINCT pc.run_id, pc.phase, pc.model_id, j.value AS param
FROM priced_count pc, json_each(pc.params) j
WHERE pc.count > 0 OR pc.count2 > 0
UNION ALL
SELECT p.run_id, p.phase, m.id, j.value
FROM run_phase p
JOIN run ON run.id = p.run_id
CROSS JOIN model m
JOIN model_cost c ON c.model_id = m.id AND c.reason IS NULL
     AND c.class = (SELECT id FROM event_class WHERE name = 'insn')
     AND (c.mode = run.mode OR (c.mode IS NULL AND NOT EXISTS (
          SELECT 1 FROM model_cost o WHERE o.model_id = m.id AND o.mode = run.mode
          AND o.class = c.class AND o.reason IS NULL))),
     json_each(c.params) j
WHERE p.insn_user + p.insn_kernel > 0;

CREATE VIEW run_unsourced AS
SELECT u.run_id, u.phase, v.model_id, v.model, v.param, v.value, v.kind, v.source,
       v.carried_from, v.estimate
FROM param_use u
JOIN model_unsourced v ON v.model_id = u.model_id AND v.param = u.param;
