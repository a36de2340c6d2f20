-- An agent's concurrency across replicas: each replica fills at most `share` of an agent's
-- places at once, and the shares of every replica that still holds any add up to no more
-- than the agent's concurrency (changed under the same advisory lock as the depth quotas'
-- shares). `demand` is what the replica held or had waiting for the agent at its last
-- settling, so that shares follow the work. A replica's rows go once it is gone and its jobs
-- are taken over.
create table agent_shares (
    replica uuid not null references replicas (id) on delete cascade,
    agent text not null,
    share integer not null,
    demand integer not null,
    primary key (replica, agent)
);
