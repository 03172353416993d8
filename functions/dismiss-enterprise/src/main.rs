#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_http(|app, request| dismiss_enterprise::handle(app, request)).await
}
