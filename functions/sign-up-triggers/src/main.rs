#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_events(sign_up_triggers::USES, |app, event| sign_up_triggers::handle(app, event.payload))
        .await
}
