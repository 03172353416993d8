fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_http(handover_account::USES, handover_account::handle))
}
