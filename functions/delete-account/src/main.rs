#[tokio::main]
async fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::serve_http(delete_account::handle).await
}
