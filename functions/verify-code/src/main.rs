#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_http(|app, request| verify_code::handle(app, request)).await
}
