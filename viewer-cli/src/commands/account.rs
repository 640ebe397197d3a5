//! `whoami`.

use remotedx_proto::v1 as pb;

use crate::client::Hub;
use crate::error::{CliError, EXIT_OK};
use crate::output::json::UserJson;
use crate::output::{Output, Style};

/// Prints who the token belongs to.
pub async fn whoami(hub: &Hub, out: &Output) -> Result<u8, CliError> {
    let user = hub
        .account()
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .map_err(|s| hub.error(s))?;
    let user = UserJson::from(user.into_inner());
    if out.json {
        out.json(&user)?;
        return Ok(EXIT_OK);
    }
    let senior = if user.senior {
        " (senior: signs reports final)"
    } else {
        ""
    };
    out.line(&format!(
        "{} (user {})",
        out.paint(Style::Bold, &user.name),
        user.user_id
    ))?;
    out.line(&format!("role:        {}{senior}", user.role))?;
    out.line(&format!(
        "institution: {} ({})",
        user.institution_name, user.institution_code
    ))?;
    out.line(&format!("hub:         {}", hub.url()))?;
    Ok(EXIT_OK)
}
