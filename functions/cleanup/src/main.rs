fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_events(cleanup::USES, |app, event| async move {
        let summary = cleanup::handle(app, event.context.deadline).await;
        Ok(serde_json::to_value(summary)?)
    }))
}
