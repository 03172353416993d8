#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_http(check_prerequisites::USES, check_prerequisites::handle).await
}
