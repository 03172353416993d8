fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_http(dismiss_enterprise::USES, dismiss_enterprise::handle))
}
