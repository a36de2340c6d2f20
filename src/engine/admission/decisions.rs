//! A person's decision on an approval request, or a resume of a job its failure-rate alert
//! held, taken to the driver of the job — the one writer of the job's state — and answered
//! once it is stored.

use tokio::sync::oneshot;
use uuid::Uuid;

use super::Admission;
use crate::engine::run::{JobMsg, NotDecided};
use crate::engine::EngineError;
use crate::people::approvals::Refusal;
use crate::people::inbox::{Approval, Refused, Ruling};

impl Admission {
    pub(in crate::engine) async fn decide(&self, id: Uuid, ruling: Ruling) -> Result<Approval, EngineError> {
        let row = self.store.approval(id).await?.ok_or_else(|| EngineError::NotFound(format!("approval {id}")))?;
        let inbox = self.lock().running.get(&row.job_id).cloned();
        let (reply, answered) = oneshot::channel();
        let sent = inbox.is_some_and(|inbox| inbox.send(JobMsg::Decide { id, ruling, reply }).is_ok());
        let outcome = if sent { answered.await.ok() } else { None };
        match outcome {
            Some(Ok(approval)) => {
                self.ctx.journal.flush().await?;
                Ok(approval)
            }
            Some(Err(NotDecided::Refused(refused))) => Err(refusal(refused)),
            Some(Err(NotDecided::NotWaiting)) | None => {
                let row = self.store.approval(id).await?.unwrap_or(row);
                Err(EngineError::Conflict(format!("approval {id} is not waiting for a decision (it is {})", row.state)))
            }
        }
    }
}

impl Admission {
    pub(in crate::engine) async fn resume_held(&self, job_id: Uuid, by: String) -> Result<(), EngineError> {
        let inbox = self.lock().running.get(&job_id).cloned();
        let (reply, answered) = oneshot::channel();
        let sent = inbox.is_some_and(|inbox| inbox.send(JobMsg::Resume { by, reply }).is_ok());
        match if sent { answered.await.ok() } else { None } {
            Some(Ok(())) => Ok(self.ctx.journal.flush().await?),
            Some(Err(why)) => Err(EngineError::Conflict(format!("job {job_id}: {why}"))),
            None => {
                let job =
                    self.store.job(job_id).await?.ok_or_else(|| EngineError::NotFound(format!("job {job_id}")))?;
                Err(EngineError::Conflict(format!("job {job_id} is not held ({})", job.status)))
            }
        }
    }
}

fn refusal(refused: Refused) -> EngineError {
    match refused {
        Refused::Input(why) => {
            EngineError::Invalid(vec![crate::domain::FieldError { path: "input".into(), message: why }])
        }
        Refused::Decision(why) => {
            EngineError::Invalid(vec![crate::domain::FieldError { path: "decision".into(), message: why }])
        }
        Refused::Rule(rule @ (Refusal::NotAnApprover(..) | Refusal::OwnRequest(_))) => {
            EngineError::Forbidden(rule.to_string())
        }
        Refused::Rule(rule) => EngineError::Conflict(rule.to_string()),
    }
}
