fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_http(check_prerequisites::USES, check_prerequisites::handle))
}
