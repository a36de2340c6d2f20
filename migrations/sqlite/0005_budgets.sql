-- The books of every budget envelope (issue 14): what it was allocated (top-ups included),
-- what is reserved for calls in flight, spent by its subtree, and given back when it closed,
-- as JSON in millionths of the currency and tokens. Written through the journal's batches
-- as the envelope changes; a restarted server rebuilds its live books from the allocations
-- here and the spending in llm_calls.
create table node_budgets (
    node_id blob primary key,
    job_id  blob not null,
    books   text not null
);
create index node_budgets_job on node_budgets (job_id);
