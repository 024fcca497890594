-- q_events_per_op.sql — what one measured operation of each workload does, by event class:
-- counts in the measured phase (1) divided by the run's n, straight from the tables (no model).
-- In native mode these are the privileged instructions, faults and interrupts a VMM would have to
-- handle; in the other modes, the exits, hypercalls and callouts that replaced them.
SELECT r.workload,
       r.mode,
       k.name                                AS class,
       printf('%.2f', 1.0 * sum(c.count) / r.n) AS per_op
FROM event_count c
JOIN run r         ON r.id = c.run_id
JOIN latest_run l  ON l.run_id = r.id
JOIN event_class k ON k.id = c.class
WHERE c.phase = 1 AND k.name <> 'insn' AND r.workload IN ('syscall', 'pgfault', 'cr3')
GROUP BY r.id, k.name
HAVING 1.0 * sum(c.count) / r.n >= 0.01
ORDER BY r.workload, r.mode, sum(c.count) DESC;
