//! People in the loop (issue 15): what cadre asks of a person and how their answers move the
//! tree. [`approvals`] holds the rules, pure and tested — who may decide, N of M, no approving
//! one's own request, a timeout's default, and escalation up the levels the tree's ancestors
//! make; [`inbox`] is a request as stored and listed (the rules plus what the approver is
//! shown and gave); [`report`] is the job's report for people and CI. The driver's waiting
//! node lives in `engine::run::approvals`, the routes in `api::approvals`.

pub mod alerts;
pub mod approvals;
pub mod inbox;
pub mod notify;
pub mod report;
