-- The process group of each command worker while it runs, so that a server restarted after
-- a crash can stop what the dead one left behind before re-running the node.
create table node_processes (
    node_id       blob primary key,
    job_id        blob not null,
    pgid          integer not null,
    started_ticks integer not null
);
