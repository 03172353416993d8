fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_http(cancel_deletion::USES, cancel_deletion::handle))
}
