#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_http(|app, request| handover_account::handle(app, request)).await
}
