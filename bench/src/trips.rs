//! Round trips: the DynamoDB and SES requests each operation makes, counted
//! in-process by the SDK interceptors around the functions' own handlers.

use crate::report::Trip;
use crate::scenarios::{self, Bed, Error};
use std::time::{Duration, Instant};

/// The requests each operation makes, counted in-process by the SDK
/// interceptors around the functions' own handlers.
pub async fn measure(sdk: &aws_config::SdkConfig, table: &str) -> Result<Vec<Trip>, Error> {
    use serde_json::json;
    use shared::lambda_http::{request::from_str, Body, Request, Response};
    use shared::model::account::Role;
    use shared::model::purpose::Purpose;
    use std::future::Future;

    let bed = Bed::new(sdk, "round-trips", table.to_string()).await?;
    let mut trips = Vec::new();
    let request = |f: &str, sub: &str, body: serde_json::Value| -> Result<Request, Error> {
        let body = (!body.is_null()).then_some(body);
        Ok(from_str(&scenarios::http_event(f, sub, body.as_ref()).to_string())?)
    };
    /// One operation: what it sent, what it answered against what docs/api.md says, and its floor.
    async fn measure<F: Future<Output = Response<Body>>>(
        bed: &Bed,
        trips: &mut Vec<Trip>,
        what: (&str, &str),
        expected: u16,
        floor: Option<(u64, u64)>,
        call: F,
    ) {
        bed.recorder.take();
        let started = Instant::now();
        let status = call.await.status().as_u16();
        let took = started.elapsed();
        trips.push(Trip::new(what.0, what.1, &bed.recorder.take(), status, floor, took).expecting(expected));
    }
    let app = &bed.app;
    let purpose = json!({"purpose": "delete_account"});

    let account = bed.account("trips", Role::Individual, None).await?;
    let me = account.as_str();
    let send = ("send-code", "first code of the day");
    measure(
        &bed,
        &mut trips,
        send,
        202,
        Some((1, 1)),
        send_code::handle(app, request("send-code", me, purpose.clone())?),
    )
    .await;
    let send = ("send-code", "another code the same day");
    measure(
        &bed,
        &mut trips,
        send,
        202,
        Some((1, 1)),
        send_code::handle(app, request("send-code", me, purpose.clone())?),
    )
    .await;

    let code = bed.recorder.code_for(&format!("{account}@example.com")).ok_or("no code mailed")?;
    let wrong = format!("{:06}", (code.parse::<u32>()? + 1) % 1_000_000);
    let body = json!({"purpose": "delete_account", "code": wrong});
    measure(
        &bed,
        &mut trips,
        ("verify-code", "wrong code"),
        422,
        Some((2, 0)),
        verify_code::handle(app, request("verify-code", me, body)?),
    )
    .await;
    let body = json!({"purpose": "delete_account", "code": code});
    let what = ("verify-code", "right code (the main path)");
    measure(&bed, &mut trips, what, 200, Some((2, 0)), verify_code::handle(app, request("verify-code", me, body)?))
        .await;

    let what = ("check-prerequisites", "individual account (the main path)");
    let call = check_prerequisites::handle(app, request("check-prerequisites", me, json!(null))?);
    measure(&bed, &mut trips, what, 200, Some((1, 0)), call).await;
    let admin = bed.enterprise().await?;
    let what = ("check-prerequisites", "default admin of an active enterprise");
    let call = check_prerequisites::handle(app, request("check-prerequisites", admin.as_str(), json!(null))?);
    measure(&bed, &mut trips, what, 200, Some((1, 0)), call).await;

    let token = bed.token(&admin, Purpose::DismissEnterprise).await?;
    let what = ("dismiss-enterprise", "admin and two members (the main path)");
    let call = dismiss_enterprise::handle(
        app,
        request("dismiss-enterprise", admin.as_str(), json!({"verification_token": token}))?,
    );
    measure(&bed, &mut trips, what, 200, None, call).await;

    let heir = bed.account("trips-handing", Role::Individual, None).await?;
    let token = bed.token(&heir, Purpose::HandoverAccount).await?;
    let body =
        json!({"verification_token": token, "new_email": "trips-heir@example.com", "new_phone": "+8613700000001"});
    let what = ("handover-account", "start a handover (the main path)");
    measure(
        &bed,
        &mut trips,
        what,
        202,
        None,
        handover_account::handle(app, request("handover-account", heir.as_str(), body)?),
    )
    .await;
    let code = bed.recorder.code_for("trips-heir@example.com").ok_or("no handover code mailed")?;
    let body = json!({"code": code}).to_string();
    let confirm = journeys::event::Function::ConfirmHandover.event(
        Some(heir.as_str()),
        Some("web-console"),
        Some(&shared::clock::Clock::default().now().to_string()),
        Some(&body),
    );
    let what = ("handover-account", "confirm it (a small account)");
    measure(&bed, &mut trips, what, 200, None, handover_account::handle(app, from_str(&confirm.to_string())?)).await;

    let gone = bed.account("trips-gone", Role::Individual, None).await?;
    let token = bed.token(&gone, Purpose::DeleteAccount).await?;
    let what = ("delete-account", "small individual account (the main path)");
    let call =
        delete_account::handle(app, request("delete-account", gone.as_str(), json!({"verification_token": token}))?);
    measure(&bed, &mut trips, what, 200, Some((3, 1)), call).await;

    // Cleanup on this table: first whatever the runs above left due, then one expired token, then nothing.
    let deadline_ms = || {
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
            + Duration::from_secs(300))
        .as_millis() as u64
    };
    cleanup::handle(app, deadline_ms()).await;
    bed.expired_token().await?;
    for expect_removed in [1, 0] {
        bed.recorder.take();
        let started = Instant::now();
        let summary = cleanup::handle(app, deadline_ms()).await;
        let took = started.elapsed();
        let operation = match expect_removed {
            1 => format!("one expired token due ({} removed)", summary.tokens_removed),
            _ => format!("nothing due ({} entries read)", summary.due_entries_read),
        };
        // A run that removed what was due answers 200 here, one that did not 204, as in the warm run.
        let status = if summary.tokens_removed == expect_removed && summary.failures == 0 { 200 } else { 204 };
        trips.push(Trip::new("cleanup", &operation, &bed.recorder.take(), status, None, took).expecting(200));
    }
    Ok(trips)
}
