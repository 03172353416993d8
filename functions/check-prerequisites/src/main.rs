#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_http(|app, request| check_prerequisites::handle(app, request)).await
}
