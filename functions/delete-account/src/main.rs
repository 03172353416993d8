#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_http(|app, request| delete_account::handle(app, request)).await
}
