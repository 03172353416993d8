#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_stream(publish_events::handle).await
}
