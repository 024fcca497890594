-- q_kvm_stat.sql — the top events of one run, shaped like `perf kvm stat report`, priced under
-- one cost model, the events that cost the most modeled time first.
-- Parameters: the workload, mode and model in the WHERE clause.
SELECT event,
       samples,
       printf('%.2f', samples_pct) AS "samples%",
       printf('%.2f', time_pct)    AS "time%",
       printf('%.0f', avg_cycles)  AS avg_cycles
FROM kvm_stat
WHERE model = 'p4-prescott'
  AND run_id = (SELECT run_id FROM latest_run WHERE workload = 'pgfault' AND mode = 'native')
ORDER BY time_pct DESC, samples DESC
LIMIT 8;
