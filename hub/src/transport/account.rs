//! AccountService: who a token belongs to.

use remotedx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{caller, convert};
use crate::domain::Hub;

/// The service.
pub struct Account {
    hub: Hub,
}

impl Account {
    /// Over `hub`.
    pub fn new(hub: Hub) -> Self {
        Account { hub }
    }
}

#[tonic::async_trait]
impl pb::account_service_server::AccountService for Account {
    async fn who_am_i(
        &self,
        req: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::UserInfo>, Status> {
        let who = caller(&self.hub, &req).await?;
        Ok(Response::new(pb::UserInfo {
            user_id: who.user_id,
            name: who.name,
            role: convert::role(who.role).into(),
            institution_code: who.institution_code,
            institution_name: who.institution_name,
            senior: who.senior,
        }))
    }
}
